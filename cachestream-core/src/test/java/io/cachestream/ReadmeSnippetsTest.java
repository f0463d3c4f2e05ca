package io.cachestream;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compiles and runs every Java snippet of the README's "Java API" section against a fake origin, so the
 * documentation cannot rot. Snippets may use {@code cacheManager}, a started manager.
 */
class ReadmeSnippetsTest {
  private static final Pattern JAVA_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);

  @TempDir Path dir;
  RangeOrigin origin;
  CacheStreamManager cacheManager;

  @BeforeEach
  void setUp() throws IOException {
    origin = new RangeOrigin();
    for (String path : new String[] {"/video.mp4", "/file.mp3", "/next.mp4"}) {
      origin.file(path, RangeOrigin.randomBytes(2 << 20, path.hashCode()));
    }
    cacheManager = CacheStreamManager.start(CacheConfig.builder().port(0).cacheDir(dir.resolve("shared")).build());
  }

  @AfterEach
  void tearDown() throws IOException {
    cacheManager.close();
    origin.close();
  }

  static List<String> snippets() throws IOException {
    String readme = Files.readString(Path.of(System.getProperty("user.dir")).resolveSibling("README.md"));
    int start = readme.indexOf("## Java API");
    int end = readme.indexOf("### Reference", start);
    assertThat(start).as("README has a Java API section").isNotNegative();
    Matcher m = JAVA_BLOCK.matcher(readme.substring(start, end));
    List<String> blocks = new ArrayList<>();
    while (m.find()) {
      blocks.add(m.group(1));
    }
    return blocks;
  }

  @TestFactory
  List<DynamicTest> everyJavaSnippetInTheReadmeCompilesAndRuns() throws IOException {
    List<String> blocks = snippets();
    assertThat(blocks).hasSizeGreaterThanOrEqualTo(5);
    List<DynamicTest> tests = new ArrayList<>();
    for (int i = 0; i < blocks.size(); i++) {
      String block = blocks.get(i);
      String name = "snippet " + (i + 1) + ": " + block.lines().findFirst().orElse("");
      int n = i;
      tests.add(DynamicTest.dynamicTest(name, () -> run(n, block)));
    }
    return tests;
  }

  private void run(int n, String block) throws Exception {
    String body = block
        .replace("https://example.com", "http://127.0.0.1:" + origin.server.getPort())
        .replace("CacheConfig.builder()", "CacheConfig.builder().port(0).cacheDir(java.nio.file.Path.of(\""
            + dir.resolve("own-" + n).toString().replace("\\", "\\\\") + "\"))");
    String className = "Snippet" + n;
    String source = """
        import io.cachestream.*;
        import java.net.URI;
        import java.time.Duration;
        import java.util.*;
        import java.util.concurrent.*;

        public class %s {
          public static void run(CacheStreamManager cacheManager) throws Exception {
        %s
          }
        }
        """.formatted(className, body);
    Path src = dir.resolve("src-" + n);
    Path out = Files.createDirectories(dir.resolve("classes-" + n));
    Path file = Files.createDirectories(src).resolve(className + ".java");
    Files.writeString(file, source, StandardCharsets.UTF_8);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    var errors = new java.io.ByteArrayOutputStream();
    int status = javac.run(null, null, errors, "-proc:none", "-d", out.toString(), "-cp",
        System.getProperty("java.class.path"), file.toString());
    assertThat(status).as("javac:\n%s\n%s", errors, source).isZero();
    try (URLClassLoader loader = new URLClassLoader(new URL[] {out.toUri().toURL()}, getClass().getClassLoader())) {
      try {
        loader.loadClass(className).getMethod("run", CacheStreamManager.class).invoke(null, cacheManager);
      } catch (InvocationTargetException e) {
        throw new AssertionError("snippet " + (n + 1) + " failed:\n" + block, e.getCause());
      }
    }
  }
}

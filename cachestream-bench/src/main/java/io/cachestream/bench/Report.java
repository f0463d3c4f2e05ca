package io.cachestream.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Samples by name, and the table built from their medians: text, Markdown and an SVG chart of the ratios. */
final class Report {
  /** Whether a larger value of a metric is better. */
  enum Better { HIGHER, LOWER }

  /**
   * One metric. {@code ratio} is CacheStream ÷ nginx, {@code varnishRatio} CacheStream ÷ varnish; {@code met} (the
   * targets of issue 7 are stated against nginx) is null when the metric has no target. {@code varnish} is null when
   * varnish was not measured.
   */
  record Row(String scenario, String metric, Better better, Double direct, Double nginx, Double varnish, Double cs,
      String target, Boolean met, String note) {
    Double ratio() {
      return over(cs, nginx);
    }

    Double varnishRatio() {
      return over(cs, varnish);
    }

    private static Double over(Double cs, Double peer) {
      return peer == null || cs == null || peer == 0 || peer.isNaN() || cs.isNaN() ? null : cs / peer;
    }

    /** How many times better than nginx CacheStream is (> 1 better), whatever the metric's direction. */
    Double advantage() {
      Double r = ratio();
      if (r == null || r == 0) {
        return null;
      }
      return better == Better.HIGHER ? r : 1 / r;
    }
  }

  final Map<String, List<Double>> samples = new LinkedHashMap<>();
  final List<Row> rows = new ArrayList<>();
  final List<String> failures = new ArrayList<>();
  final List<String> notes = new ArrayList<>();

  void add(String key, double value) {
    samples.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
  }

  /** The median of a sample list, or null if there is none. */
  Double median(String key) {
    List<Double> list = samples.get(key);
    if (list == null || list.isEmpty()) {
      return null;
    }
    double[] v = list.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  static String num(Double v) {
    if (v == null || v.isNaN()) {
      return "n/a";
    }
    double a = Math.abs(v);
    if (a == 0) {
      return "0";
    }
    if (a >= 1000) {
      return String.format(Locale.ROOT, "%,.0f", v);
    }
    if (a >= 100) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    if (a >= 10) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    if (a >= 1) {
      return String.format(Locale.ROOT, "%.2f", v);
    }
    return String.format(Locale.ROOT, "%.3f", v);
  }

  static String ratio(Double r) {
    return r == null ? "—" : num(r) + "×";
  }

  static String met(Boolean met) {
    return met == null ? "—" : met ? "yes" : "**no**";
  }

  private static final String[] HEADER = {"scenario", "metric", "direct", "nginx", "varnish", "CacheStream",
      "CS ÷ nginx", "CS ÷ varnish", "target", "met", "detail"};

  /** The columns right-aligned: the figures and the ratios. */
  private static boolean numeric(int column) {
    return column >= 2 && column <= 7;
  }

  private static String[] cells(Row r, boolean markdown) {
    return new String[] {r.scenario, r.metric, r.direct == null ? "—" : num(r.direct), num(r.nginx),
        r.varnish == null ? "—" : num(r.varnish), num(r.cs), ratio(r.ratio()), ratio(r.varnishRatio()),
        markdown ? r.target.replace("|", "\\|") : r.target, markdown ? met(r.met) : met(r.met).replace("**", ""),
        r.note == null ? "" : r.note};
  }

  /** A plain-text table for the terminal. */
  String text() {
    List<String[]> cells = rows.stream().map(r -> cells(r, false)).toList();
    int[] width = new int[HEADER.length];
    for (int i = 0; i < HEADER.length; i++) {
      width[i] = HEADER[i].length();
      for (String[] c : cells) {
        width[i] = Math.max(width[i], c[i].length());
      }
    }
    StringBuilder sb = new StringBuilder();
    appendLine(sb, HEADER, width);
    String[] rule = new String[HEADER.length];
    for (int i = 0; i < rule.length; i++) {
      rule[i] = "-".repeat(width[i]);
    }
    appendLine(sb, rule, width);
    for (String[] c : cells) {
      appendLine(sb, c, width);
    }
    return sb.toString();
  }

  private static void appendLine(StringBuilder sb, String[] c, int[] width) {
    for (int i = 0; i < c.length; i++) {
      boolean right = numeric(i);
      String pad = " ".repeat(width[i] - c[i].length());
      sb.append(right ? pad + c[i] : c[i] + pad).append(i + 1 < c.length ? "  " : "\n");
    }
  }

  /** The table as Markdown, with a reference to the chart. */
  String markdown(String title, List<String> preamble, String chartFile) {
    StringBuilder sb = new StringBuilder("# ").append(title).append("\n\n");
    preamble.forEach(line -> sb.append(line).append('\n'));
    sb.append('\n');
    sb.append('|');
    for (String h : HEADER) {
      sb.append(' ').append(h).append(" |");
    }
    sb.append("\n|");
    for (int i = 0; i < HEADER.length; i++) {
      sb.append(numeric(i) ? "---:|" : "---|");
    }
    sb.append('\n');
    for (Row r : rows) {
      sb.append('|');
      for (String s : cells(r, true)) {
        sb.append(' ').append(s).append(" |");
      }
      sb.append('\n');
    }
    if (chartFile != null) {
      sb.append("\n![CacheStream vs nginx, per metric](").append(chartFile).append(")\n\n");
      sb.append("The chart shows how many times better than nginx CacheStream did on each metric (nginx ÷ CacheStream "
          + "for times, latencies, bytes and memory; CacheStream ÷ nginx for rates), on a log scale: right of the "
          + "1× line is better than nginx.\n");
    }
    sb.append("\n```text\n").append(asciiChart()).append("```\n");
    if (!notes.isEmpty()) {
      sb.append("\n## Notes\n\n");
      notes.forEach(n -> sb.append("- ").append(n).append('\n'));
    }
    if (!failures.isEmpty()) {
      sb.append("\n## Failures\n\n");
      failures.forEach(f -> sb.append("- ").append(f).append('\n'));
    }
    sb.append("\n## Samples (every run)\n\n");
    samples.forEach((k, v) -> sb.append("- `").append(k).append("`: ")
        .append(String.join(", ", v.stream().map(Report::num).toList())).append('\n'));
    return sb.toString();
  }

  /** An ASCII bar chart of {@link Row#advantage()} on a log scale, 1× in the middle. */
  String asciiChart() {
    StringBuilder sb = new StringBuilder("CacheStream advantage over nginx (log scale; | is 1x, left worse, right better)\n");
    int half = 20;
    int labelWidth = rows.stream().mapToInt(r -> label(r).length()).max().orElse(10);
    for (Row r : rows) {
      Double a = r.advantage();
      String label = label(r);
      sb.append(label).append(" ".repeat(labelWidth - label.length())).append(' ');
      if (a == null || a.isNaN() || a.isInfinite()) {
        sb.append(" ".repeat(half)).append("|").append("  n/a\n");
        continue;
      }
      // 20 columns per decade.
      int len = (int) Math.round(Math.min(half, Math.abs(Math.log10(a)) * 20));
      if (a >= 1) {
        sb.append(" ".repeat(half)).append('|').append("#".repeat(len)).append(" ".repeat(half - len));
      } else {
        sb.append(" ".repeat(half - len)).append("=".repeat(len)).append('|').append(" ".repeat(half));
      }
      sb.append(' ').append(num(a)).append("x\n");
    }
    return sb.toString();
  }

  private static String label(Row r) {
    return r.scenario + " " + r.metric;
  }

  /** An SVG bar chart of {@link Row#advantage()} (log scale, 0.1× to 10×, clipped) per metric. */
  String svg(String title) {
    List<Row> shown = rows.stream().filter(r -> r.advantage() != null && !r.advantage().isNaN()
        && !r.advantage().isInfinite()).toList();
    int labelW = 330;
    int plotW = 420;
    int rowH = 22;
    int top = 50;
    int height = top + shown.size() * rowH + 40;
    int width = labelW + plotW + 90;
    double center = labelW + plotW / 2.0;
    double perDecade = plotW / 2.0;
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n",
        width, height));
    sb.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", width, height));
    sb.append(String.format(Locale.ROOT, "<text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">%s</text>\n",
        esc(title)));
    sb.append(String.format(Locale.ROOT,
        "<text x=\"10\" y=\"38\" fill=\"#555\">times better than nginx (log scale; right of 1× = CacheStream better; bars clipped at 0.1× and 10×)</text>\n"));
    for (double tick : new double[] {0.1, 0.2, 0.5, 1, 2, 5, 10}) {
      double x = center + Math.log10(tick) * perDecade;
      sb.append(String.format(Locale.ROOT,
          "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"%s\"/>\n", x, top - 4, x,
          top + shown.size() * rowH, tick == 1 ? "#000" : "#ddd", tick == 1 ? "1.5" : "1"));
      sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">%s×</text>\n",
          x, top + shown.size() * rowH + 16, num(tick)));
    }
    int y = top;
    for (Row r : shown) {
      double a = r.advantage();
      double clipped = Math.max(0.1, Math.min(10, a));
      double x = center + Math.log10(clipped) * perDecade;
      double x0 = Math.min(center, x);
      double w = Math.max(1, Math.abs(x - center));
      String color = r.met == null ? (a >= 1 ? "#7aa6d6" : "#d99a6c") : r.met ? "#4caf50" : "#e05050";
      sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", labelW - 8,
          y + 15, esc(label(r))));
      sb.append(String.format(Locale.ROOT,
          "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n", x0, y + 4, w, rowH - 8, color));
      sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s×%s</text>\n", labelW + plotW + 6, y + 15,
          num(a), r.met == null ? "" : r.met ? " ✓" : " ✗"));
      y += rowH;
    }
    sb.append(String.format(Locale.ROOT,
        "<text x=\"10\" y=\"%d\" fill=\"#555\">green: target met, red: target missed, blue/orange: no target</text>\n",
        height - 6));
    sb.append("</svg>\n");
    return sb.toString();
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  static List<Double> list(double... v) {
    return Arrays.stream(v).boxed().toList();
  }
}

package io.cachestream.background;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * The one JSON mapper for the files under {@code requests/}. Instants are ISO-8601 strings and statuses their wire
 * names, so the files read well by hand and from other languages; unknown fields are ignored so newer versions can
 * add some.
 */
final class Json {
  static final ObjectMapper MAPPER = create();

  private Json() {}

  private static ObjectMapper create() {
    SimpleModule module = new SimpleModule("cachestream-background");
    module.addSerializer(Instant.class, new JsonSerializer<>() {
      @Override
      public void serialize(Instant value, JsonGenerator gen, SerializerProvider p) throws IOException {
        gen.writeString(value.toString());
      }
    });
    module.addDeserializer(Instant.class, new JsonDeserializer<>() {
      @Override
      public Instant deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
        try {
          return Instant.parse(p.getValueAsString());
        } catch (DateTimeParseException | NullPointerException e) {
          return (Instant) ctx.handleWeirdStringValue(Instant.class, p.getValueAsString(), "not an ISO-8601 instant");
        }
      }
    });
    module.addSerializer(RequestStatus.class, new JsonSerializer<>() {
      @Override
      public void serialize(RequestStatus value, JsonGenerator gen, SerializerProvider p) throws IOException {
        gen.writeString(value.wireName());
      }
    });
    module.addDeserializer(RequestStatus.class, new JsonDeserializer<>() {
      @Override
      public RequestStatus deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
        try {
          return RequestStatus.fromWireName(p.getValueAsString());
        } catch (IllegalArgumentException | NullPointerException e) {
          return (RequestStatus) ctx.handleWeirdStringValue(RequestStatus.class, p.getValueAsString(), "unknown status");
        }
      }
    });
    return JsonMapper.builder()
        .addModule(module)
        // Records only: helpers such as StatusInfo.isFinal() are not fields of the files.
        .disable(MapperFeature.AUTO_DETECT_IS_GETTERS)
        .enable(SerializationFeature.INDENT_OUTPUT)
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .build();
  }
}

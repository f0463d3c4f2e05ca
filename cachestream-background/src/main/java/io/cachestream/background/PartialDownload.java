package io.cachestream.background;

/**
 * The content of {@code response.part.json}: how much of {@code response.body.part} is known good and which validator
 * ({@code ETag} or {@code Last-Modified}) a resumed GET must send in {@code If-Range}. Written only after the part file
 * was fsynced, so bytes past {@code length} (from a crash mid-write) are ignored.
 */
record PartialDownload(String validator, long length) {}

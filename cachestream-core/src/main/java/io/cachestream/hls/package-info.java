/**
 * HLS playlists: detection, URI rewriting to proxy URLs, variants and media of a playlist. Internal: not API.
 */
package io.cachestream.hls;

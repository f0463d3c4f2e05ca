/**
 * The local HTTP server (Netty): URL mapping, request checks, Range handling and zero-copy streaming of cached
 * bytes. Internal: public only where the manager needs it; not API, may change in any release.
 */
package io.cachestream.server;

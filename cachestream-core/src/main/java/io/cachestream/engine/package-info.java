/**
 * The download engine: live resources, their upstream fetches and waiting readers. Internal: public only so the
 * server and the manager can reach it; not API, may change in any release.
 */
package io.cachestream.engine;

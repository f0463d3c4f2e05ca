#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs the real peers the end-to-end tests use
# (nginx as origin and caching peer, curl, ffmpeg/ffprobe, mpv, VLC, wrk; varnish, the benchmark's second caching
# peer, best effort) when missing, then builds and tests every module.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
apt_updated=false
# apt_install [apt-get install options] PACKAGE...: one package-list update per run, however many installs follow.
apt_install() {
  if ! $apt_updated; then
    "${sudo_cmd[@]}" apt-get update -qq
    apt_updated=true
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "$@" >/dev/null
}

need=()
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need+=(nginx-light)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
command -v mpv >/dev/null 2>&1 || need+=(mpv)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
if (( ${#need[@]} )); then
  echo "installing test tools: ${need[*]}" >&2
  apt_install "${need[@]}"
fi
if ! command -v cvlc >/dev/null 2>&1; then
  # VLC's recommends pull a desktop; the headless player needs only the binary and base plugins.
  apt_install --no-install-recommends vlc-bin vlc-plugin-base
fi
if ! command -v varnishd >/dev/null 2>&1 && [[ ! -x /usr/sbin/varnishd ]]; then
  # Optional: only the benchmark's second peer. Best effort, so that a failed install cannot fail the tests.
  apt_install varnish 2>/dev/null || echo "varnish not installed: the benchmark runs without its second peer" >&2
fi

# Includes the benchmark's smoke run (cachestream-bench's ScenarioBenchSmokeIT), so the bench cannot rot.
exec mvn -B -ntp verify "$@"

# Long CI steps, sourced by .ci/run and the Go tool scripts: no silent minutes in a CI log, and the
# CPU-bound Go builds of a cold machine run while the network-bound stages wait on downloads.
#
#   with_progress LABEL COMMAND...  runs COMMAND; every PROGRESS_EVERY seconds (default 60) while it
#                                   runs, prints "LABEL still running (N s)" to stderr (a cold Go
#                                   build compiles for many minutes and prints nothing itself);
#                                   returns COMMAND's exit code.
#   in_background NAME COMMAND...   starts COMMAND in the background, once the job started before
#                                   it has ended (one build at a time: two would only share the
#                                   cores and both finish late); its stdout and stderr are kept.
#   from_background NAME VAR        prints the job's stderr so far, then as it comes until the job
#                                   ends; then exports VAR as the LAST line of the job's stdout. A
#                                   job that failed fails this function, its output shown. (Not in
#                                   a $(...): a subshell cannot wait for its parent's jobs.)
#   background_failures             fails as from_background does if a job has already failed.
# .ci/run calls stop_background on exit, so a run that fails early leaves no build behind.

with_progress() { # label command...
  local label=$1 pid start=$SECONDS rc=0
  shift
  "$@" &
  pid=$!
  # `tail --pid` returns when PID ends; `timeout` makes it return at each interval before that.
  until timeout "${PROGRESS_EVERY:-60}" tail --pid="$pid" -f /dev/null; do
    printf '%s still running (%ss)\n' "$label" "$((SECONDS - start))" >&2
  done
  wait "$pid" || rc=$?
  return "$rc"
}

declare -A BACKGROUND_PID=()
BACKGROUND_DIR=
BACKGROUND_LAST=

in_background() { # name command...
  local name=$1
  shift
  [ -n "$BACKGROUND_DIR" ] || BACKGROUND_DIR=$(mktemp -d "${TMPDIR:-/tmp}/jsm-sso-ci-background.XXXXXX")
  # Made here, not by the job's redirections: its join may come before the job has started.
  : >"$BACKGROUND_DIR/$name.out"
  : >"$BACKGROUND_DIR/$name.err"
  # Its own session (setsid), so that stop_background can end the job's whole process group.
  # NAME.rc, written when it ends, lets background_failures see a failure before the job's join.
  setsid bash -c 'if [ -n "$1" ]; then tail --pid="$1" -f /dev/null; fi
    rc=0; "${@:3}" || rc=$?; echo "$rc" >"$2"; exit "$rc"' \
    _ "$BACKGROUND_LAST" "$BACKGROUND_DIR/$name.rc" "$@" \
    >"$BACKGROUND_DIR/$name.out" 2>"$BACKGROUND_DIR/$name.err" </dev/null &
  BACKGROUND_PID[$name]=$!
  BACKGROUND_LAST=$!
  printf '[%s] started in the background: %s\n' "$name" "$*" >&2
}

from_background() { # name var
  local name=$1 var=$2 pid=${BACKGROUND_PID[$1]} start=$SECONDS rc=0
  printf '[%s] its output, then waiting for it to end:\n' "$name" >&2
  tail -n +1 --pid="$pid" -f "$BACKGROUND_DIR/$name.err" >&2
  wait "$pid" || rc=$?
  if [ "$rc" != 0 ]; then
    printf '[%s] FAILED (exit %s): its output is above\n' "$name" "$rc" >&2
    return "$rc"
  fi
  printf -v "$var" '%s' "$(tail -n 1 "$BACKGROUND_DIR/$name.out")"
  export "${var?}"
  printf '[%s] done (waited %ss): %s=%s\n' "$name" "$((SECONDS - start))" "$var" "${!var}" >&2
}

# Fails, as its join would, at the first job that has already failed: a broken build stops the run
# at the next stage, not at the stage that needs it.
background_failures() {
  local name
  for name in "${!BACKGROUND_PID[@]}"; do
    if [ -s "$BACKGROUND_DIR/$name.rc" ] && [ "$(cat "$BACKGROUND_DIR/$name.rc")" != 0 ]; then
      from_background "$name" BACKGROUND_RESULT || return
    fi
  done
}

stop_background() {
  local pid
  for pid in "${BACKGROUND_PID[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  [ -z "$BACKGROUND_DIR" ] || rm -rf "$BACKGROUND_DIR"
}

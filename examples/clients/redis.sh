#!/usr/bin/env bash
# Submits one job through Redis alone, in each of Kiln's two Redis protocols, and prints the
# results (docs/api.md, "Redis (no HTTP)"). Needs redis-cli and a Kiln whose queue.url is this
# Redis (kiln serve or kiln worker).
#
#   REDIS_URL=redis://127.0.0.1:6379/0 ./redis.sh ../jobs/p5-hello.json
#
# KILN_PREFIX is the queue's key prefix (queue.prefix, default kiln); KILN_WAIT_S how long to wait
# for each result (60). Exits non-zero when a result does not come or does not succeed.
set -euo pipefail

job_file=${1:?usage: redis.sh JOB.json}
redis=(redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379/0}" --no-raw)
prefix=${KILN_PREFIX:-kiln}
wait_s=${KILN_WAIT_S:-60}
body=$(tr -d '\n' <"$job_file")

with_id() { # the job with its envelope id set to $1 (see curl.sh for why sed)
    if grep -q '"id"[[:space:]]*:' <<<"$body"; then
        sed "0,/\"id\"[[:space:]]*:[[:space:]]*\"[^\"]*\"/s//\"id\": \"$1\"/" <<<"$body"
    else
        sed "0,/{/s//{\"id\": \"$1\", /" <<<"$body"
    fi
}

# The second line of BLPOP's answer (the value), or nothing on a timeout.
pop() { "${redis[@]:0:3}" --raw BLPOP "$1" "$wait_s" | sed -n 2p; }

# Kiln's own: XADD to the submission stream, BLPOP the job's result list.
id="redis-$(date +%s)-$$"
"${redis[@]}" XADD "$prefix:submit" '*' job "$(with_id "$id")" >/dev/null
result=$(pop "$prefix:result:$id")
if [ -z "$result" ]; then echo "no result for $id within ${wait_s}s" >&2; exit 1; fi
echo "kiln protocol: $result"
grep -q '"status":"succeeded"' <<<"$result" || exit 1

# emprops style: LPUSH the envelope, BLPOP {id, success, src, mimeType}.
id="emprops-$(date +%s)-$$"
"${redis[@]}" LPUSH "$prefix:emprops:jobs" "$(with_id "$id")" >/dev/null
result=$(pop "$prefix:emprops:result:$id")
if [ -z "$result" ]; then echo "no result for $id within ${wait_s}s" >&2; exit 1; fi
echo "emprops: $result"
grep -q '"success":true' <<<"$result"

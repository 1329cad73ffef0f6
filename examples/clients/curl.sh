#!/usr/bin/env bash
# Renders one job with curl alone: submit and wait, then download an artifact.
#
#   KILN_URL=http://127.0.0.1:8080 ./curl.sh ../jobs/p5-hello.json image.png out.png
#
# The job's "id" is replaced by a fresh one, so the artifact's URL is known without parsing the
# answer (curl has no JSON parser). KILN_TOKEN, when set, is sent as a bearer token
# (service.submit_tokens). Exits non-zero, with Kiln's error on stderr, if the job does not
# succeed within KILN_WAIT_S (60) seconds.
set -euo pipefail

job_file=${1:?usage: curl.sh JOB.json ARTIFACT_NAME OUT_FILE}
artifact=${2:?usage: curl.sh JOB.json ARTIFACT_NAME OUT_FILE}
out=${3:?usage: curl.sh JOB.json ARTIFACT_NAME OUT_FILE}
base=${KILN_URL:-http://127.0.0.1:8080}
wait_s=${KILN_WAIT_S:-60}
auth=()
if [ -n "${KILN_TOKEN:-}" ]; then auth=(-H "Authorization: Bearer $KILN_TOKEN"); fi

id="curl-$(date +%s)-$$-$RANDOM"
# Swap the envelope's id (or add one) without a JSON tool: Kiln refuses unknown envelope fields,
# so the id is set with sed on the first "id" key, or inserted after the opening brace.
body=$(cat "$job_file")
if grep -q '^[[:space:]]*"id"[[:space:]]*:' <<<"$body"; then
    body=$(sed "0,/\"id\"[[:space:]]*:[[:space:]]*\"[^\"]*\"/s//\"id\": \"$id\"/" <<<"$body")
else
    body=$(sed "0,/{/s//{\"id\": \"$id\", /" <<<"$body")
fi

answer=$(curl -sS "${auth[@]}" -H 'Content-Type: application/json' --data-binary "$body" \
    -w '\n%{http_code}' "$base/jobs?wait=$wait_s")
status=${answer##*$'\n'}
record=${answer%$'\n'*}
case "$status" in
    200) ;;
    202) echo "job $id did not finish within ${wait_s}s: $record" >&2; exit 1 ;;
    *) echo "Kiln answered $status: $record" >&2; exit 1 ;;
esac
if ! grep -q '"status":"succeeded"' <<<"$record"; then
    echo "job $id did not succeed: $record" >&2
    exit 1
fi
curl -sSf "${auth[@]}" -o "$out" "$base/jobs/$id/artifacts/$artifact"
echo "$out ($id)"

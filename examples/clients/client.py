#!/usr/bin/env python3
"""A small Kiln client with Python's standard library alone: submit a job, wait for it to end
(``?wait``, then polling), download its artifacts.

    KILN_URL=http://127.0.0.1:8080 python3 client.py ../jobs/p5-hello.json out/

KILN_TOKEN, when set, is sent as a bearer token (service.submit_tokens). Prints the files
written; exits 1 if the job does not succeed.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

FINAL = ("succeeded", "failed", "cancelled")


class Kiln:
    def __init__(self, base="http://127.0.0.1:8080", token=None):
        self.base = base.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _request(self, method, path, body=None):
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def submit(self, job, wait_s=60):
        """Queues ``job`` and holds up to ``wait_s`` for it; the record (ended, or still queued)."""
        status, body = self._request("POST", f"/jobs?wait={wait_s}", job)
        record = json.loads(body)
        if status not in (200, 202):
            message = record.get("error", {}).get("message", body.decode(errors="replace"))
            raise RuntimeError(f"Kiln refused the job ({status}): {message}")
        return record

    def job(self, job_id):
        status, body = self._request("GET", f"/jobs/{urllib.parse.quote(job_id)}")
        if status != 200:
            raise RuntimeError(f"job {job_id}: {status}")
        return json.loads(body)

    def wait(self, record, limit_s=300):
        """The job's final record, polling once a second after ``submit``'s own wait."""
        deadline = time.monotonic() + limit_s
        while record["status"] not in FINAL:
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {record['id']} did not end within {limit_s} s")
            time.sleep(1)
            record = self.job(record["id"])
        return record

    def download(self, record, directory):
        os.makedirs(directory, exist_ok=True)
        written = []
        for artifact in record["artifacts"]:
            name = artifact["name"]
            path = f"/jobs/{urllib.parse.quote(record['id'])}/artifacts/{urllib.parse.quote(name)}"
            status, body = self._request("GET", path)
            if status != 200:
                raise RuntimeError(f"{name}: {status}")
            target = os.path.join(directory, name)
            with open(target, "wb") as file:
                file.write(body)
            written.append(target)
        return written


def main():
    if len(sys.argv) != 3:
        print("usage: client.py JOB.json OUT_DIR", file=sys.stderr)
        return 2
    kiln = Kiln(os.environ.get("KILN_URL", "http://127.0.0.1:8080"), os.environ.get("KILN_TOKEN"))
    with open(sys.argv[1]) as file:
        job = json.load(file)
    job.pop("id", None)  # Kiln names it, so the example can run again.
    record = kiln.wait(kiln.submit(job))
    if record["status"] != "succeeded":
        error = record.get("error") or {}
        print(f"job {record['id']} {record['status']}: {error.get('kind')}: {error.get('message')}", file=sys.stderr)
        return 1
    for path in kiln.download(record, sys.argv[2]):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

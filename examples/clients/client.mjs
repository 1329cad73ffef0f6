// A small Kiln client for Node 18+ (fetch and streams are built in; no packages):
// submit a job, follow its events (SSE) to the end, download its artifacts.
//
//   KILN_URL=http://127.0.0.1:8080 node client.mjs ../jobs/p5-hello.json out/
//
// KILN_TOKEN, when set, is sent as a bearer token (service.submit_tokens). Prints one line per
// event and the files written; exits 1 if the job does not succeed.
import { readFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

export class Kiln {
  constructor(base = "http://127.0.0.1:8080", token = undefined) {
    this.base = base.replace(/\/$/, "");
    this.headers = token ? { Authorization: `Bearer ${token}` } : {};
  }

  /** Queues `job` ({id?, type, input}); the accepted record ({id, status, links}). */
  async submit(job) {
    const response = await fetch(`${this.base}/jobs`, {
      method: "POST",
      headers: { ...this.headers, "Content-Type": "application/json" },
      body: JSON.stringify(job),
    });
    const body = await response.json();
    if (response.status !== 202 && response.status !== 200) {
      throw new Error(`Kiln refused the job (${response.status}): ${body.error?.message ?? JSON.stringify(body)}`);
    }
    return body;
  }

  /** Follows the job's events until its final one; calls `onEvent(name, data)` for each.
   *  Resolves with the final job record. */
  async follow(id, onEvent = () => {}) {
    const response = await fetch(`${this.base}/jobs/${encodeURIComponent(id)}/events`, {
      headers: { ...this.headers, Accept: "text/event-stream" },
    });
    if (!response.ok) throw new Error(`events of ${id}: ${response.status}`);
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
        }
        if (data.length === 0) continue;
        const value = JSON.parse(data.join("\n"));
        onEvent(name, value);
        if (["succeeded", "failed", "cancelled"].includes(name)) return value;
      }
    }
    // The stream ended without a final event (the host stopped): read the record instead.
    return this.job(id);
  }

  /** The job's record (GET /jobs/{id}). */
  async job(id) {
    const response = await fetch(`${this.base}/jobs/${encodeURIComponent(id)}`, { headers: this.headers });
    if (!response.ok) throw new Error(`job ${id}: ${response.status}`);
    return response.json();
  }

  /** Writes every artifact of a succeeded job into `dir`; the paths written. */
  async download(record, dir) {
    await mkdir(dir, { recursive: true });
    const written = [];
    for (const artifact of record.artifacts) {
      const url = `${this.base}/jobs/${encodeURIComponent(record.id)}/artifacts/${encodeURIComponent(artifact.name)}`;
      const response = await fetch(url, { headers: this.headers });
      if (!response.ok) throw new Error(`${artifact.name}: ${response.status}`);
      const path = join(dir, artifact.name);
      await writeFile(path, Buffer.from(await response.arrayBuffer()));
      written.push(path);
    }
    return written;
  }
}

async function main() {
  const [jobFile, outDir] = process.argv.slice(2);
  if (!jobFile || !outDir) {
    console.error("usage: node client.mjs JOB.json OUT_DIR");
    process.exit(2);
  }
  const kiln = new Kiln(process.env.KILN_URL, process.env.KILN_TOKEN);
  const job = JSON.parse(await readFile(jobFile, "utf8"));
  delete job.id; // Kiln names it, so the example can run again.
  const accepted = await kiln.submit(job);
  const record =
    accepted.status === "succeeded" // a result-cache hit answers at once
      ? accepted
      : await kiln.follow(accepted.id, (name, data) =>
          console.log(`event ${name}${data.stage ? ` ${data.stage}` : ""}`),
        );
  if (record.status !== "succeeded") {
    console.error(`job ${record.id} ${record.status}: ${record.error?.kind}: ${record.error?.message}`);
    process.exit(1);
  }
  for (const path of await kiln.download(record, outDir)) console.log(`wrote ${path}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}

/**
 * The Node side of bench/node_client_bench.py: streams N checks (one client each, one course) through
 * BekalClient.checkMany and prints {"checks": N, "seconds": S} as JSON. The Python side does the same
 * with bekal.client in the same run.
 *
 *   node dist/bench/stream.js ADDRESS CA CERT KEY N BATCH WINDOW
 */
import * as fs from "node:fs";

import { Audience, BekalError, connect, date, Education, Referrer, RehabStage } from "../src";

async function main(): Promise<void> {
  const [address, ca, cert, key, n, batch, window] = process.argv.slice(2);
  const client = connect(address, { ca: fs.readFileSync(ca), cert: fs.readFileSync(cert), key: fs.readFileSync(key),
    deadlineMs: 600_000, serverName: "localhost" });
  const checks = (tag: string, count: number) => Array.from({ length: count }, (_, i) => ({
    requestId: `node-bench-${tag}-${process.pid}-${i}`,
    client: {
      id: `BENCH-${i}`, birthDate: date("1996-08-17"), rehabStage: RehabStage.REHAB_STAGE_POST_REHABILITATION,
      rehabCompletedDate: date("2019-03-30"), referrer: Referrer.REFERRER_BNN, writtenTestScore: 71,
      interviewScore: 80, education: Education.EDUCATION_SMK, consentToShare: true,
    },
    courseCode: "LAS-SMAW-01", asOfDate: date("2019-05-16"), audience: Audience.AUDIENCE_BNN,
  }));
  await client.checkMany(checks("warm", 500), Number(batch), Number(window));
  const work = checks("run", Number(n));
  const start = process.hrtime.bigint();
  const results = await client.checkMany(work, Number(batch), Number(window));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const failed = results.filter((r) => r instanceof BekalError).length;
  client.close();
  process.stdout.write(JSON.stringify({ checks: results.length, failed, seconds }) + "\n");
}

main().catch((err) => {
  process.stderr.write(`${err}\n`);
  process.exit(1);
});

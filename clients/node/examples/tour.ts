/**
 * The service tour in Node: health, the catalogue, one check, a refused name, a stream, a matching job.
 *
 *   make node                                  # npm ci and build clients/node
 *   .venv/bin/bekal certs dev certs            # development certificates (a BNN office among them)
 *   .venv/bin/bekal serve --config certs/serve.toml --listen 127.0.0.1:50052 &
 *   node clients/node/dist/examples/tour.js 127.0.0.1:50052 certs
 */
import * as fs from "node:fs";
import * as path from "node:path";

import {
  Audience, BekalError, connect, date, Education, isoDate, MatchJobPhase, Outcome, Referrer, RehabStage,
} from "../src";

async function main(): Promise<void> {
  const [address = "127.0.0.1:50052", certs = "certs"] = process.argv.slice(2);
  const read = (name: string) => fs.readFileSync(path.join(certs, name));
  // a BNN office's certificate: the BNN view (every reason); without certificates: plaintext, a training centre's view
  const bekal = connect(address, { ca: read("ca.pem"), cert: read("bnnk-banjarbaru.pem"),
    key: read("bnnk-banjarbaru.key"), deadlineMs: 10_000, serverName: "localhost" });  // the dev certificate's name
  try {
    console.log("health:", await bekal.health("bekal.v1.EligibilityService"));

    const asOf = date("2019-05-16");
    for await (const course of bekal.listCourses(asOf)) {
      console.log(`course ${course.code}: ${course.title}, ${course.seats} seats from ${isoDate(course.startDate)}`);
    }

    const client = {
      id: "BNNK-BJB-2019-0007", birthDate: date("1996-08-17"), rehabStage: RehabStage.REHAB_STAGE_POST_REHABILITATION,
      rehabCompletedDate: date("2019-03-30"), referrer: Referrer.REFERRER_BNN, writtenTestScore: 71,
      interviewScore: 80, education: Education.EDUCATION_SMK, consentToShare: true,
      preferences: ["LAS-SMAW-01", "OTO-MTR-01"],
    };
    const res = await bekal.checkEligibility({ requestId: `tour-${Date.now()}`, client, courseCode: "LAS-SMAW-01",
      asOfDate: asOf, audience: Audience.AUDIENCE_BNN });
    for (const d of res.decisions) {
      console.log(`${d.courseCode}: ${Outcome[d.outcome]}, priority ${d.priority}`);
      for (const r of d.reasons) console.log(`  ${r.ruleId}: ${r.messages.find((m) => m.locale === "en")?.text}`);
    }

    try {
      await bekal.checkEligibility({ requestId: `tour-bad-${Date.now()}`, client: { ...client, id: "Budi Santoso" } });
    } catch (err) {
      if (!(err instanceof BekalError)) throw err;
      console.log(`refused: ${err.codeName} ${err.reason}`, err.fields);
    }

    const results = await bekal.checkMany(Array.from({ length: 1000 }, (_, i) => ({
      requestId: `tour-stream-${Date.now()}-${i}`, client: { ...client, id: `TOUR-${i}` }, courseCode: "LAS-SMAW-01",
      asOfDate: asOf, audience: Audience.AUDIENCE_BNN,
    })));
    console.log(`streamed ${results.length} checks, ${results.filter((r) => r instanceof BekalError).length} failed`);

    const job = await bekal.uploadCohort([
      { requestId: `tour-job-${Date.now()}`, settings: { asOfDate: asOf, seed: 1, audience: Audience.AUDIENCE_BNN } },
      { clients: Array.from({ length: 20 }, (_, i) => ({ ...client, id: `TOUR-JOB-${i}` })) },
    ]);
    const done = await bekal.waitForJob(job.jobId, (j) => console.log(`job ${MatchJobPhase[j.phase]} ` +
      `${j.progressDone}/${j.progressTotal}`));
    console.log(`placed ${done.summary?.placed} of ${done.summary?.clients}`);
    for (const p of (await bekal.streamPlacements(job.jobId)).slice(0, 3)) {
      console.log(`  ${p.clientId} -> ${p.courseCode || "(not placed)"}`);
    }
  } finally {
    bekal.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

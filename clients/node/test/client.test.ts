/**
 * The "done when", with only the generated TypeScript client, against a real `bekal serve`:
 * check eligibility, stream 2,000 checks, decode a field violation, list the catalogue, run a
 * matching job to completion.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  Audience, BekalClient, BekalError, Client, Code, date, Education, isoDate, MatchJobPhase, MatchJobStatus,
  Outcome, Partial, Referrer, RehabStage,
} from "../src";
import { TestServer } from "./support";

const AS_OF = date("2019-05-16");

function client(id: string, preferences = ["LAS-SMAW-01", "OTO-MTR-01"]): Partial<Client> {
  return {
    id, birthDate: date("1996-08-17"), rehabStage: RehabStage.REHAB_STAGE_POST_REHABILITATION,
    rehabCompletedDate: date("2019-03-30"), referrer: Referrer.REFERRER_BNN, referringOffice: "BNNK Banjarbaru",
    writtenTestScore: 71, interviewScore: 80, education: Education.EDUCATION_SMK, consentToShare: true, preferences,
  };
}

let server: TestServer;
let bnn: BekalClient;

before(async () => {
  server = await TestServer.start();
  bnn = server.as("bnnk-banjarbaru");
});

after(async () => {
  bnn?.close();
  await server?.stop();
});

test("every served service reports its health", async () => {
  for (const service of ["", "bekal.v1.EligibilityService", "bekal.v1.MatchingService", "bekal.v1.CatalogService",
    "bekal.v1.RulesService", "bekal.v1.AuditService"]) {
    assert.equal(await bnn.health(service), "SERVING", service);
  }
});

test("a BNN office checks eligibility and reads every reason in both languages", async () => {
  const res = await bnn.checkEligibility({ requestId: "node-1", client: client("BNNK-BJB-2019-0007"),
    courseCode: "LAS-SMAW-01", asOfDate: AS_OF, audience: Audience.AUDIENCE_BNN });
  assert.equal(res.decisions.length, 1);
  const d = res.decisions[0];
  assert.equal(d.outcome, Outcome.OUTCOME_ELIGIBLE);
  assert.equal(isoDate(d.asOfDate), "2019-05-16");
  assert.ok(res.rulesetVersion.startsWith("sha256:"));
  const referral = d.reasons.find((r) => r.facts.some((f) => f.name === "client.referrer"));
  assert.ok(referral, "a priority reason reads the referrer");
  assert.deepEqual(referral.messages.map((m) => m.locale), ["id", "en"]);
  const fact = referral.facts.find((f) => f.name === "client.referrer");
  assert.deepEqual(fact?.value, { $case: "enumValue", value: "REFERRER_BNN" });  // one spelling: the proto's
});

test("a name as client id is a field violation with a stable reason", async () => {
  await assert.rejects(
    bnn.checkEligibility({ requestId: "node-2", client: client("Budi Santoso"), courseCode: "LAS-SMAW-01",
      asOfDate: AS_OF, audience: Audience.AUDIENCE_BNN }),
    (err: unknown) => {
      assert.ok(err instanceof BekalError);
      assert.equal(err.code, Code.INVALID_ARGUMENT);
      assert.equal(err.codeName, "INVALID_ARGUMENT");
      assert.equal(err.reason, "FIELD_INVALID");
      assert.match(err.fields["client.id"], /not a pseudonymous id/);
      return true;
    });
});

test("2,000 checks stream in order; a bad one fails alone with the same error model", async () => {
  const checks = Array.from({ length: 2000 }, (_, i) => ({
    requestId: `node-stream-${i}`, client: client(i === 1234 ? "Budi Santoso" : `BNNK-BJB-2019-${i}`),
    courseCode: "LAS-SMAW-01", asOfDate: AS_OF, audience: Audience.AUDIENCE_BNN,
  }));
  const results = await bnn.checkMany(checks, 250);
  assert.equal(results.length, 2000);
  const bad = results[1234];
  assert.ok(bad instanceof BekalError);
  assert.equal(bad.reason, "FIELD_INVALID");
  assert.ok("client.id" in bad.fields);
  results.forEach((r, i) => {
    if (i === 1234) return;
    assert.ok(!(r instanceof BekalError), `check ${i}: ${r instanceof BekalError ? r.message : ""}`);
    assert.equal(r.requestId, `node-stream-${i}`);
    assert.equal(r.decisions[0].outcome, Outcome.OUTCOME_ELIGIBLE);
  });
});

test("the catalogue lists page by page and gets one course", async () => {
  const codes: string[] = [];
  for await (const course of bnn.listCourses(AS_OF, 3)) codes.push(course.code);
  assert.ok(codes.length > 3, "more than one page");
  assert.deepEqual(codes, [...codes].sort());
  assert.ok(codes.includes("LAS-SMAW-01"));
  const course = await bnn.getCourse("LAS-SMAW-01");
  assert.ok(course.seats > 0 && course.startDate && course.startDate.year === 2019);
  await assert.rejects(bnn.getCourse("NOPE-01"), (err: unknown) =>
    err instanceof BekalError && err.code === Code.NOT_FOUND && err.reason === "COURSE_NOT_FOUND"
    && err.resource?.name === "NOPE-01");
});

test("a matching job runs to completion and streams every placement", async () => {
  const clients = Array.from({ length: 40 }, (_, i) => client(`NODE-${i}`, ["LAS-SMAW-01", "OTO-MTR-01", "JHT-01"]));
  const job = await bnn.uploadCohort([
    { requestId: "node-job-1", settings: { asOfDate: AS_OF, seed: 7, audience: Audience.AUDIENCE_BNN } },
    { clients: clients.slice(0, 25) },
    { clients: clients.slice(25) },
  ]);
  assert.ok(job.jobId);
  const phases = new Set<MatchJobPhase>();
  const done = await bnn.waitForJob(job.jobId, (j) => phases.add(j.phase));
  assert.equal(done.status, MatchJobStatus.MATCH_JOB_STATUS_SUCCEEDED);
  assert.equal(done.phase, MatchJobPhase.MATCH_JOB_PHASE_DONE);
  assert.equal(done.summary?.clients, 40);
  assert.ok(done.createTime && done.updateTime && done.createTime.seconds > 0);
  // the same job as an AIP-151 operation, through the generated google.longrunning.Operations client
  assert.equal(job.operationName, `operations/${job.jobId}`);
  const op = await bnn.waitOperation(job.operationName, 30);
  assert.ok(op.done);
  assert.equal(op.result?.$case, "response");
  const final = BekalClient.matchJobOf(op.result?.$case === "response" ? op.result.value : undefined);
  assert.equal(final?.status, MatchJobStatus.MATCH_JOB_STATUS_SUCCEEDED);
  assert.equal(final?.summary?.placed, done.summary?.placed);
  const placements = await bnn.streamPlacements(job.jobId);
  assert.deepEqual(placements.map((p) => p.clientId), clients.map((c) => c.id));
  assert.equal(placements.filter((p) => p.courseCode).length, done.summary?.placed);
});

/**
 * A small typed wrapper over the generated bekal.v1 stubs (src/gen, made by `make node-proto` from
 * protos/ with ts-proto): promises instead of callbacks, a deadline on every call, retries on
 * UNAVAILABLE with exponential backoff, and google.rpc.Status details decoded into a BekalError.
 * Everything generated is re-exported, so a program needs no other import.
 */
import * as grpc from "@grpc/grpc-js";
import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";

import { GetOperationRequest, Operation, OperationsClient, WaitOperationRequest } from "./gen/google/longrunning/operations";
import { Any } from "./gen/google/protobuf/any";
import { Code } from "./gen/google/rpc/code";
import {
  BadRequest,
  ErrorInfo,
  PreconditionFailure,
  ResourceInfo,
  RetryInfo,
} from "./gen/google/rpc/error_details";
import { Status } from "./gen/google/rpc/status";
import { DateMessage } from "./gen/google/type/date";
import {
  CatalogServiceClient,
  GetCourseRequest,
  ListCoursesRequest,
  ListCoursesResponse,
} from "./gen/bekal/v1/catalog";
import { Course } from "./gen/bekal/v1/facts";
import {
  CheckEligibilityRequest,
  CheckEligibilityResponse,
  CheckEligibilityStreamRequest,
  CheckEligibilityStreamResponse,
  EligibilityServiceClient,
} from "./gen/bekal/v1/eligibility";
import {
  ClientPlacement,
  GetMatchJobRequest,
  GetMatchJobResponse,
  MatchJob,
  MatchJobStatus,
  MatchRequest,
  MatchResponse,
  MatchingServiceClient,
  StreamPlacementsRequest,
  StreamPlacementsResponse,
  UploadCohortRequest,
  UploadCohortResponse,
} from "./gen/bekal/v1/matching";

export {
  CatalogServiceClient, GetCourseRequest, GetCourseResponse, ListCoursesRequest, ListCoursesResponse,
} from "./gen/bekal/v1/catalog";
export { LocalizedText } from "./gen/bekal/v1/common";
export { Decision, FactValue, Outcome, Reason, RuleStatus, RuleTrace } from "./gen/bekal/v1/decision";
export {
  Audience, CheckEligibilityRequest, CheckEligibilityResponse, CheckEligibilityResult, CheckEligibilityStreamRequest,
  CheckEligibilityStreamResponse, EligibilityServiceClient,
} from "./gen/bekal/v1/eligibility";
export { Client, Course, DeclaredValue, Education, Referrer, RehabStage } from "./gen/bekal/v1/facts";
export {
  ClientPlacement, CourseFill, CourseRanking, MatchJob, MatchJobPhase, MatchJobStatus, MatchRequest, MatchResponse,
  MatchSettings, MatchSummary, MatchingServiceClient, NotPlaced, NotPlacedReason, ReserveOrder, Standing,
  UploadCohortRequest,
} from "./gen/bekal/v1/matching";
export { Operation, OperationsClient } from "./gen/google/longrunning/operations";
export { Code } from "./gen/google/rpc/code";
export { Status } from "./gen/google/rpc/status";
export { DateMessage } from "./gen/google/type/date";

/** Any message field left out is its default, as in protobuf (so `{ client: { id: "X-1" } }` will do). */
export type Partial<T> = T extends Array<infer U> ? Array<Partial<U>>
  : T extends { $case: string; value: unknown } ? { $case: T["$case"]; value: Partial<T["value"]> }
  : T extends object ? { [K in keyof T]?: Partial<T[K]> } : T;

/** One bad field of a request, e.g. `client.id`: "not a pseudonymous id: ...". */
export interface FieldViolation {
  field: string;
  description: string;
}

/** A failed call, or a failed check of a stream: the google.rpc.Status with its details decoded. */
export class BekalError extends Error {
  /** The gRPC status code, e.g. Code.INVALID_ARGUMENT (3). */
  readonly code: number;
  /** Its name, e.g. "INVALID_ARGUMENT". */
  readonly codeName: string;
  /** google.rpc.ErrorInfo.reason: the stable error kind to branch on, e.g. "FIELD_INVALID". */
  readonly reason: string;
  readonly fieldViolations: FieldViolation[];
  /** The unknown resource (NOT_FOUND), e.g. { type: "bekal.v1.Course", name: "NOPE-01" }. */
  readonly resource?: { type: string; name: string };
  readonly preconditions: { type: string; subject: string; description: string }[];
  /** google.rpc.RetryInfo: worth retrying after this many milliseconds. */
  readonly retryDelayMs?: number;

  constructor(status: Status) {
    super(status.message);
    this.name = "BekalError";
    this.code = status.code;
    this.codeName = Code[status.code] ?? String(status.code);
    let reason = "";
    const violations: FieldViolation[] = [];
    const preconditions: { type: string; subject: string; description: string }[] = [];
    for (const detail of status.details) {
      const type = detail.typeUrl.slice(detail.typeUrl.lastIndexOf("/") + 1);
      if (type === "google.rpc.ErrorInfo") {
        reason = ErrorInfo.decode(detail.value).reason;
      } else if (type === "google.rpc.BadRequest") {
        for (const v of BadRequest.decode(detail.value).fieldViolations) {
          violations.push({ field: v.field, description: v.description });
        }
      } else if (type === "google.rpc.ResourceInfo") {
        const info = ResourceInfo.decode(detail.value);
        this.resource = { type: info.resourceType, name: info.resourceName };
      } else if (type === "google.rpc.PreconditionFailure") {
        for (const v of PreconditionFailure.decode(detail.value).violations) {
          preconditions.push({ type: v.type, subject: v.subject, description: v.description });
        }
      } else if (type === "google.rpc.RetryInfo") {
        const delay = RetryInfo.decode(detail.value).retryDelay;
        if (delay) this.retryDelayMs = delay.seconds * 1000 + delay.nanos / 1e6;
      }
    }
    this.reason = reason;
    this.fieldViolations = violations;
    this.preconditions = preconditions;
  }

  /** The bad fields by path. */
  get fields(): Record<string, string> {
    return Object.fromEntries(this.fieldViolations.map((v) => [v.field, v.description]));
  }

  /** From a grpc-js error: its `grpc-status-details-bin` trailer when the server sent one. */
  static fromServiceError(err: grpc.ServiceError): BekalError {
    const raw = err.metadata?.get("grpc-status-details-bin")?.[0];
    if (raw instanceof Buffer) {
      try {
        return new BekalError(Status.decode(raw));
      } catch {
        // a malformed trailer must not hide the error itself
      }
    }
    return new BekalError({ code: err.code, message: err.details ?? err.message, details: [] });
  }
}

/** A google.type.Date from `YYYY-MM-DD` (or a JS Date, read in UTC). */
export function date(value: string | Date): DateMessage {
  if (value instanceof Date) {
    return { year: value.getUTCFullYear(), month: value.getUTCMonth() + 1, day: value.getUTCDate() };
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) throw new RangeError(`expected a date YYYY-MM-DD, got ${JSON.stringify(value)}`);
  return { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
}

/** `YYYY-MM-DD` of a google.type.Date ("" when unset). */
export function isoDate(value?: DateMessage): string {
  if (!value || !value.year) return "";
  const pad = (n: number, w: number) => String(n).padStart(w, "0");
  return `${pad(value.year, 4)}-${pad(value.month, 2)}-${pad(value.day, 2)}`;
}

export interface ConnectOptions {
  /** PEM files for mutual TLS (the server's CA, this agency's certificate and key); none: plaintext. */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** The name to check in the server's certificate instead of the address's host (e.g. "localhost" for a
   *  server reached by IP address: Node warns when TLS is given an IP as server name). */
  serverName?: string;
  /** Deadline of each call (an attempt's retries included), milliseconds. Default 30 s. */
  deadlineMs?: number;
  /** Retries on UNAVAILABLE (server starting, restarting, draining). Default 5. */
  retries?: number;
  /** First backoff, doubled per retry up to maxBackoffMs (or the server's RetryInfo). Default 100 ms. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

type Callback<R> = (err: grpc.ServiceError | null, res: R) => void;
type Unary<Q, R> = (req: Q, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: Callback<R>) => unknown;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A connection to a bekal server, for one agency. */
export class BekalClient {
  readonly eligibility: EligibilityServiceClient;
  readonly matching: MatchingServiceClient;
  readonly catalog: CatalogServiceClient;
  /** google.longrunning.Operations: every matching job is an operation (AIP-151), "operations/<job id>". */
  readonly operations: OperationsClient;
  private readonly channelCredentials: grpc.ChannelCredentials;
  private readonly opts: Required<Omit<ConnectOptions, "ca" | "cert" | "key" | "serverName">>;
  private readonly channelOptions: Record<string, string | number>;

  constructor(readonly address: string, options: ConnectOptions = {}) {
    this.channelCredentials = options.ca
      ? grpc.credentials.createSsl(options.ca, options.key ?? null, options.cert ?? null)
      : grpc.credentials.createInsecure();
    this.opts = {
      deadlineMs: options.deadlineMs ?? 30_000,
      retries: options.retries ?? 5,
      backoffMs: options.backoffMs ?? 100,
      maxBackoffMs: options.maxBackoffMs ?? 3_000,
    };
    const channelOptions: Record<string, string | number> = { "grpc.max_receive_message_length": 64 * 1024 * 1024 };
    if (options.serverName) {
      channelOptions["grpc.ssl_target_name_override"] = options.serverName;
      channelOptions["grpc.default_authority"] = options.serverName;
    }
    this.channelOptions = channelOptions;
    this.eligibility = new EligibilityServiceClient(address, this.channelCredentials, channelOptions);
    this.matching = new MatchingServiceClient(address, this.channelCredentials, channelOptions);
    this.catalog = new CatalogServiceClient(address, this.channelCredentials, channelOptions);
    this.operations = new OperationsClient(address, this.channelCredentials, channelOptions);
  }

  close(): void {
    this.eligibility.close();
    this.matching.close();
    this.catalog.close();
    this.operations.close();
  }

  private deadline(): Date {
    return new Date(Date.now() + this.opts.deadlineMs);
  }

  /** A unary call with the deadline, retried on UNAVAILABLE; fails with a BekalError. */
  private async unary<Q, R>(client: grpc.Client, method: Unary<Q, R>, request: Q): Promise<R> {
    const deadline = this.deadline();
    let delay = this.opts.backoffMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await new Promise<R>((resolve, reject) => {
          method.call(client, request, new grpc.Metadata(), { deadline }, (err: grpc.ServiceError | null, res: R) =>
            err ? reject(err) : resolve(res));
        });
      } catch (err) {
        const error = BekalError.fromServiceError(err as grpc.ServiceError);
        const wait = error.retryDelayMs ?? delay;
        if (error.code !== Code.UNAVAILABLE || attempt >= this.opts.retries || Date.now() + wait >= deadline.getTime()) {
          throw error;
        }
        await sleep(wait);
        delay = Math.min(delay * 2, this.opts.maxBackoffMs);
      }
    }
  }

  /** Decides one client against one course (or every course offered on the as-of date). */
  checkEligibility(request: Partial<CheckEligibilityRequest>): Promise<CheckEligibilityResponse> {
    const req = CheckEligibilityRequest.fromPartial(request as never);
    return this.unary(this.eligibility, this.eligibility.checkEligibility as Unary<CheckEligibilityRequest,
      CheckEligibilityResponse>, req);
  }

  /**
   * Bulk checks over one stream, `batchSize` per message, at most `window` messages unanswered:
   * one result per check, in order; a failed check is a BekalError in its place, the others go on.
   */
  async checkMany(checks: Partial<CheckEligibilityRequest>[], batchSize = 200, window = 4):
    Promise<(CheckEligibilityResponse | BekalError)[]> {
    const batches: CheckEligibilityStreamRequest[] = [];
    for (let i = 0; i < checks.length; i += batchSize) {
      batches.push({ checks: checks.slice(i, i + batchSize).map((c) => CheckEligibilityRequest.fromPartial(c as never)) });
    }
    const call = this.eligibility.checkEligibilityStream({ deadline: this.deadline() });
    const results: (CheckEligibilityResponse | BekalError)[] = [];
    let sent = 0;
    let answered = 0;
    const send = () => {
      while (sent < batches.length && sent - answered < window) call.write(batches[sent++]);
      if (sent === batches.length) call.end();
    };
    return new Promise((resolve, reject) => {
      call.on("data", (response: CheckEligibilityStreamResponse) => {
        answered++;
        for (const item of response.results) {
          const r = item.result;
          if (r?.$case === "error") results.push(new BekalError(r.value));
          else if (r?.$case === "response") results.push(r.value);
          else results.push(new BekalError({ code: Code.INTERNAL, message: "a result with neither", details: [] }));
        }
        if (sent < batches.length) send();
      });
      call.on("error", (err: grpc.ServiceError) => reject(BekalError.fromServiceError(err)));
      call.on("end", () => answered === batches.length ? resolve(results)
        : reject(new BekalError({ code: Code.INTERNAL, message: "the stream ended before every answer", details: [] })));
      if (batches.length === 0) {
        call.end();
      } else {
        send();
      }
    });
  }

  /** One page of the course catalogue. */
  listCoursesPage(request: Partial<ListCoursesRequest>): Promise<ListCoursesResponse> {
    return this.unary(this.catalog, this.catalog.listCourses as Unary<ListCoursesRequest, ListCoursesResponse>,
      ListCoursesRequest.fromPartial(request as never));
  }

  /** Every course offered on the as-of date (default today), page by page (AIP-158). */
  async *listCourses(asOf?: DateMessage, pageSize = 100): AsyncGenerator<Course> {
    let pageToken = "";
    do {
      const page = await this.listCoursesPage({ asOfDate: asOf, pageSize, pageToken });
      yield* page.courses;
      pageToken = page.nextPageToken;
    } while (pageToken);
  }

  async getCourse(code: string): Promise<Course> {
    const res = await this.unary(this.catalog, this.catalog.getCourse as Unary<GetCourseRequest, { course?: Course }>,
      GetCourseRequest.fromPartial({ code }));
    return res.course as Course;
  }

  /** Places a cohort of at most 5,000 clients in one call. */
  match(request: Partial<MatchRequest>): Promise<MatchResponse> {
    return this.unary(this.matching, this.matching.match as Unary<MatchRequest, MatchResponse>,
      MatchRequest.fromPartial(request as never));
  }

  /** Uploads a cohort in parts (settings and request id in the first) and returns the job. */
  uploadCohort(parts: Partial<UploadCohortRequest>[]): Promise<MatchJob> {
    return new Promise((resolve, reject) => {
      const call = this.matching.uploadCohort({ deadline: this.deadline() },
        (err: grpc.ServiceError | null, res: UploadCohortResponse) =>
          err ? reject(BekalError.fromServiceError(err)) : resolve(res.job as MatchJob));
      for (const part of parts) call.write(UploadCohortRequest.fromPartial(part as never));
      call.end();
    });
  }

  async getMatchJob(jobId: string): Promise<MatchJob> {
    const res = await this.unary(this.matching, this.matching.getMatchJob as Unary<GetMatchJobRequest,
      GetMatchJobResponse>, GetMatchJobRequest.fromPartial({ jobId }));
    return res.job as MatchJob;
  }

  /** Polls a job until it succeeded (its final state) or failed (a BekalError with the job's error). */
  async waitForJob(jobId: string, onProgress?: (job: MatchJob) => void, pollMs = 200): Promise<MatchJob> {
    for (;;) {
      const job = await this.getMatchJob(jobId);
      onProgress?.(job);
      if (job.status === MatchJobStatus.MATCH_JOB_STATUS_SUCCEEDED) return job;
      if (job.status === MatchJobStatus.MATCH_JOB_STATUS_FAILED) {
        throw new BekalError(job.error ?? { code: Code.INTERNAL, message: "the job failed", details: [] });
      }
      await sleep(pollMs);
    }
  }

  /** A job as an AIP-151 operation (`MatchJob.operationName`): metadata and, once done, response are MatchJobs. */
  getOperation(name: string): Promise<Operation> {
    return this.unary(this.operations, this.operations.getOperation as Unary<GetOperationRequest, Operation>,
      GetOperationRequest.fromPartial({ name }));
  }

  /** WaitOperation: the operation once done, or as it is after `timeoutSeconds` (the server waits 60 s at most). */
  waitOperation(name: string, timeoutSeconds = 30): Promise<Operation> {
    return this.unary(this.operations, this.operations.waitOperation as Unary<WaitOperationRequest, Operation>,
      WaitOperationRequest.fromPartial({ name, timeout: { seconds: timeoutSeconds, nanos: 0 } }));
  }

  /** The MatchJob an operation's `response` (or `metadata`) holds. */
  static matchJobOf(any?: Any): MatchJob | undefined {
    return any && any.typeUrl.endsWith("/bekal.v1.MatchJob") ? MatchJob.decode(any.value) : undefined;
  }

  /** The per-client results of a job that succeeded, in upload order, from `offset` on. */
  streamPlacements(jobId: string, offset = 0): Promise<ClientPlacement[]> {
    const call = this.matching.streamPlacements(StreamPlacementsRequest.fromPartial({ jobId, offset }),
      { deadline: this.deadline() });
    const out: ClientPlacement[] = [];
    return new Promise((resolve, reject) => {
      call.on("data", (msg: StreamPlacementsResponse) => out.push(...msg.placements));
      call.on("error", (err: grpc.ServiceError) => reject(BekalError.fromServiceError(err)));
      call.on("end", () => resolve(out));
    });
  }

  /** grpc.health.v1 status of a service ("" for the server): "SERVING", "NOT_SERVING", ... */
  health(service = ""): Promise<string> {
    const names = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];
    const client = new grpc.Client(this.address, this.channelCredentials, this.channelOptions);
    const request = new BinaryWriter().uint32(10).string(service).finish();
    return new Promise<string>((resolve, reject) => {
      client.makeUnaryRequest("/grpc.health.v1.Health/Check", (b: Uint8Array) => Buffer.from(b),
        (b: Buffer) => {
          const reader = new BinaryReader(b);
          let status = 0;
          while (reader.pos < reader.len) {
            const tag = reader.uint32();
            if (tag >>> 3 === 1) status = reader.int32();
            else reader.skip(tag & 7);
          }
          return status;
        },
        request, { deadline: this.deadline() }, (err, status) => {
          client.close();
          return err ? reject(BekalError.fromServiceError(err)) : resolve(names[status ?? 0] ?? String(status));
        });
    });
  }
}

/** A client for the server at `address` ("127.0.0.1:50051"). */
export function connect(address: string, options: ConnectOptions = {}): BekalClient {
  return new BekalClient(address, options);
}

export { Any };

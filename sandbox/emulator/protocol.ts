/**
 * The seam between the HTTP server and the three services. The server owns everything every AWS call
 * shares (identity, latency, throttling, server errors, the call log); a frontend owns its wire protocol.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AwsError } from '#sandbox/emulator/errors';
import type { Principal } from '#sandbox/emulator/identity';
import type { EmulatedService } from '#sandbox/emulator/types';

export interface WireRequest {
  method: string;
  /** The raw, still percent-encoded path: Macie puts a whole URL-encoded ARN in one segment. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  bodyText: string;
}

export interface WireReply {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export interface Caller {
  principal: Principal;
  region: string;
  now: number;
}

/** The answers every service gives for failures that happen before its operation runs, in its own words. */
export interface TransportErrors {
  missingAuthentication(): AwsError;
  unrecognizedClient(): AwsError;
  expiredToken(): AwsError;
  throttled(): AwsError;
  internal(): AwsError;
}

export interface ServiceFrontend {
  readonly service: EmulatedService;
  readonly errors: TransportErrors;
  /** The operation the request names; `error` when it names none this emulator serves. */
  resolve(request: WireRequest): { operation: string; error?: AwsError };
  /** Accounts the request names (members, targets), for the `failingCalls` knob; never throws. */
  subjectsOf(operation: string, request: WireRequest): string[];
  /** Runs the operation; throws `AwsError` for modelled failures. */
  invoke(operation: string, request: WireRequest, caller: Caller): WireReply;
  renderError(error: AwsError): WireReply;
}

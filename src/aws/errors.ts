// src/aws/errors.ts
//
// The error answer every AWS JSON-protocol service shares: `{"__type": "<Name>", "message": "..."}`
// with HTTP 400 for client errors and 500 for the server faults the SDKs retry. Each service names
// its own faults; the request pipeline (pipeline.ts) raises the protocol's and SigV4's.

const SERVER_FAULTS = new Set(['KMSInternalException', 'KeyUnavailableException', 'DependencyTimeoutException', 'InternalFailure', 'InternalServiceError', 'InternalServerError', 'ServiceUnavailable']);

export class AwsError extends Error {
  readonly type: string;
  readonly status: number;

  constructor(type: string, message?: string) {
    super(message ?? '');
    this.type = type;
    this.status = SERVER_FAULTS.has(type) ? 500 : 400;
  }
}

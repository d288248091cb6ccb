// src/aws/regions.ts
//
// The Regions of AWS's commercial partition (botocore's endpoints.json, partition "aws", as of the
// day this list was written): what an endpoint serves unless it is started with its own list. A
// request scoped to any other Region is refused before it is dispatched.

export const AWS_REGIONS: readonly string[] = [
  'af-south-1', 'ap-east-1', 'ap-east-2', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1', 'ap-south-2',
  'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7',
  'ca-central-1', 'ca-west-1', 'eu-central-1', 'eu-central-2', 'eu-north-1', 'eu-south-1', 'eu-south-2', 'eu-west-1', 'eu-west-2',
  'eu-west-3', 'il-central-1', 'me-central-1', 'me-south-1', 'mx-central-1', 'sa-east-1', 'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
];

const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** A list of Region names as given on a command line or in options: each must look like one. */
export function parseRegions(list: readonly string[], what: string): string[] {
  const out = [...new Set(list.map((r) => r.trim()).filter((r) => r !== ''))];
  if (out.length === 0) throw new TypeError(`${what}: name at least one Region`);
  for (const r of out) if (!REGION_NAME.test(r)) throw new TypeError(`${what}: '${r}' is not a Region name (like us-east-1)`);
  return out;
}

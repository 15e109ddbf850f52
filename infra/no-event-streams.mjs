/**
 * What the Lambda bundles get for `@smithy/core/event-streams` (see infra/esbuild-plugins.cjs):
 * none of the services the functions call has an event-stream operation, so this is never reached.
 * Should a client with event streams be added, its calls fail with this message instead of silently.
 */
const notBundled = () => {
  throw new Error('@smithy/core/event-streams is not in this bundle (infra/esbuild-plugins.cjs): no service the Lambda functions call has event streams');
};

export class EventStreamSerde {
  constructor() {
    notBundled();
  }
}

export const eventStreamSerdeProvider = notBundled;

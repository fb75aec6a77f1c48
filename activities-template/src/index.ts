import { createRequire } from 'node:module';
import { packageConfig } from '@activity-deploy/activity-config';
import { activityInfo, heartbeat, sleep } from '@temporalio/activity';

// Each greeting names the package version that produced it, so a caller can see
// which release served the call.
const manifest = createRequire(import.meta.url)('../../package.json') as {
  name: string;
  version: string;
};
const release = `${manifest.name}@${manifest.version}`;

/** Settings this package reads from its pin, all optional. */
interface GreetingsConfig {
  /** The word the greeting starts with. @default 'Hello' */
  greeting?: string;
}

/** Returns a greeting for `name`. */
export async function greet(name: string): Promise<string> {
  return `${salutation()}, ${name}! (${release})`;
}

/**
 * Returns a greeting after `seconds`, heartbeating once a second with the seconds done.
 * Give it a heartbeat timeout: a retry then resumes from the last heartbeat, and
 * cancellation (including a worker shutting down) stops it at the next second.
 */
export async function greetSlowly(name: string, seconds: number): Promise<string> {
  const resumed = activityInfo().heartbeatDetails as number | undefined;
  for (let done = resumed ?? 0; done < seconds; done += 1) {
    heartbeat(done);
    // Rejects with CancelledFailure when the activity is cancelled.
    await sleep(1000);
  }
  return `${salutation()}, ${name}! (${release})`;
}

// Not exported, so not an activity.
function salutation(): string {
  const { greeting } = packageConfig<GreetingsConfig>();
  return typeof greeting === 'string' && greeting !== '' ? greeting : 'Hello';
}

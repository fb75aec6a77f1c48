/** Finished activity executions by outcome, summed over activities and versions. */
export interface ExecutionOutcomes {
  completed: number;
  failed: number;
  cancelled: number;
}

/** Reads `activity_executions_total` from a worker's /metrics; zeros when it cannot be read. */
export async function readExecutionOutcomes(workerUrl: string): Promise<ExecutionOutcomes> {
  const outcomes: ExecutionOutcomes = { completed: 0, failed: 0, cancelled: 0 };
  let text: string;
  try {
    text = await (await fetch(new URL('metrics', workerUrl))).text();
  } catch {
    return outcomes;
  }
  for (const line of text.split('\n')) {
    const match = /^activity_executions_total\{.*outcome="(\w+)".*\} (\S+)$/.exec(line);
    const outcome = match?.[1] as keyof ExecutionOutcomes | undefined;
    if (outcome && outcome in outcomes) outcomes[outcome] += Number(match?.[2]);
  }
  return outcomes;
}

export function addOutcomes(a: ExecutionOutcomes, b: ExecutionOutcomes): ExecutionOutcomes {
  return {
    completed: a.completed + b.completed,
    failed: a.failed + b.failed,
    cancelled: a.cancelled + b.cancelled,
  };
}

export function subtractOutcomes(a: ExecutionOutcomes, b: ExecutionOutcomes): ExecutionOutcomes {
  return {
    completed: a.completed - b.completed,
    failed: a.failed - b.failed,
    cancelled: a.cancelled - b.cancelled,
  };
}

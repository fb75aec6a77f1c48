import { Type, type Static } from '@sinclair/typebox';
import type { TokenRole } from './client/types.js';

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable error code, see the error catalogue' }),
      message: Type.String(),
    }),
  },
  { $id: 'Error' },
);

/** Keys of a package's settings: a letter or `_`, then letters, digits, `_`, `.` or `-`. */
export const configKeyPattern = '^[A-Za-z_][A-Za-z0-9_.-]{0,63}$';

export const PackageConfigSchema = Type.Record(
  Type.String({ pattern: configKeyPattern }),
  // A list of JSON types, so a value of any of them passes as it was sent.
  Type.Unsafe<string | number | boolean | null>({
    type: ['string', 'number', 'boolean', 'null'],
    maxLength: 4096,
  }),
  {
    // A key that does not match the pattern is rejected, not ignored.
    additionalProperties: false,
    maxProperties: 64,
    description:
      'Settings that activity code reads with packageConfig(): at most 64 keys of 1 to 64 ' +
      'letters, digits, "_", "." or "-" (starting with a letter or "_"), each a string of at ' +
      'most 4096 characters, a number, a boolean or null; at most 16384 bytes as JSON',
  },
);

export const ActivityName = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'Name of an exported activity function',
});

export const FollowTargetSchema = Type.Object(
  {
    spec: Type.String({ description: 'Semver range or dist-tag that the API keeps resolving' }),
    minAgeSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'Seconds a version must have been published before the API follows to it',
      }),
    ),
  },
  { $id: 'FollowTarget' },
);

export const PinnedPackageSchema = Type.Object(
  {
    name: Type.String(),
    version: Type.String({ description: 'Exact version resolved at pin time' }),
    integrity: Type.String({ description: 'sha512 Subresource Integrity of the tarball' }),
    config: Type.Optional(PackageConfigSchema),
    disabled: Type.Optional(
      Type.Literal(true, { description: 'The worker registers none of its activities' }),
    ),
    disabledActivities: Type.Optional(
      Type.Array(Type.String(), { description: 'Activities the worker does not register' }),
    ),
    follow: Type.Optional(Type.Ref(FollowTargetSchema)),
  },
  { $id: 'PinnedPackage' },
);

const PackageSettingsSchema = Type.Object({
  config: Type.Optional(PackageConfigSchema),
  disabled: Type.Optional(Type.Boolean()),
  disabledActivities: Type.Optional(Type.Array(Type.String())),
});

export const RolloutStepSchema = Type.Object(
  {
    percent: Type.Integer({
      minimum: 1,
      maximum: 100,
      description: "Share of the queue's workers that run the candidate at this step",
    }),
    pauseSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 604_800,
        description:
          'How long the step lasts before the next one, at most 7 days; without it the ' +
          'rollout waits at this step until it is resumed or promoted',
      }),
    ),
  },
  { additionalProperties: false },
);

const rolloutProperties = {
  taskQueue: Type.String(),
  candidateRevision: Type.Integer({
    minimum: 1,
    description: 'Revision being rolled out; also names the rollout',
  }),
  stableRevision: Type.Integer({
    minimum: 1,
    description: 'Revision that the workers outside the percentage run',
  }),
  status: Type.Union(
    ['progressing', 'paused', 'promoted', 'aborted'].map((status) => Type.Literal(status)),
    {
      description:
        'progressing: a step timer runs; paused: paused by hand, or waiting at a step ' +
        'without pauseSeconds; promoted or aborted: ended',
    },
  ),
  steps: Type.Array(RolloutStepSchema),
  stepIndex: Type.Integer({ minimum: 0, description: 'Index of the current step in steps' }),
  percent: Type.Integer({
    minimum: 0,
    maximum: 100,
    description: 'Share of workers on the candidate now',
  }),
  stepStartedAt: Type.String({ format: 'date-time' }),
  nextStepAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'When the next step starts; null while paused',
  }),
  remainingMs: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
    description: 'Time the paused step had left, in ms; null unless paused by hand',
  }),
  analysis: Type.Object({
    maxFailureRatio: Type.Number(),
    minCalls: Type.Integer(),
  }),
  startedAt: Type.String({ format: 'date-time' }),
  startedBy: Type.String(),
  endedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  endedBy: Type.Union([Type.String(), Type.Null()], {
    description: 'Token name, auto-abort, or rollout-timer for a promotion after the last step',
  }),
  endReason: Type.Union([Type.String(), Type.Null()]),
  version: Type.Integer({
    minimum: 1,
    description: 'Counts the changes of the rollout; part of the ETag of the state',
  }),
};

export const RolloutSchema = Type.Object(rolloutProperties, { $id: 'Rollout' });

const RevisionCallsSchema = Type.Object({
  revision: Type.Integer({ minimum: 0 }),
  completed: Type.Integer({ minimum: 0 }),
  failed: Type.Integer({ minimum: 0 }),
});

export const RolloutReportSchema = Type.Object(
  {
    ...rolloutProperties,
    calls: Type.Object(
      { candidate: RevisionCallsSchema, stable: RevisionCallsSchema },
      { description: 'Activity calls reported by workers since the rollout started' },
    ),
    workers: Type.Object(
      { candidate: Type.Array(Type.String()), stable: Type.Array(Type.String()) },
      { description: 'Workers that reported since the rollout started, by what they run' },
    ),
  },
  { $id: 'RolloutReport' },
);

export const RolloutListSchema = Type.Object(
  { taskQueue: Type.String(), rollouts: Type.Array(Type.Ref(RolloutSchema)) },
  { $id: 'RolloutList' },
);

const RolloutStateSchema = Type.Object(
  {
    ...rolloutProperties,
    stablePackages: Type.Array(Type.Ref(PinnedPackageSchema)),
  },
  {
    description:
      'Present while a rollout runs. A worker runs packages (the candidate) when its bucket, ' +
      'the first 32 bits of SHA-256 of "<taskQueue>/<workerId>" modulo 100, is below ' +
      'percent, and stablePackages otherwise',
  },
);

export const TaskQueueStateSchema = Type.Object(
  {
    taskQueue: Type.String(),
    revision: Type.Integer({ minimum: 0 }),
    packages: Type.Array(Type.Ref(PinnedPackageSchema)),
    rollout: Type.Optional(RolloutStateSchema),
  },
  { $id: 'TaskQueueState' },
);

export const RolloutRequestSchema = Type.Object(
  {
    steps: Type.Array(RolloutStepSchema, {
      minItems: 1,
      maxItems: 20,
      description:
        'Percentages in increasing order, each with its pause; after the last step the ' +
        'candidate is promoted',
    }),
    maxFailureRatio: Type.Optional(
      Type.Number({
        minimum: 1,
        maximum: 1000,
        description:
          "Abort when the candidate's activity failure rate is above this multiple of the " +
          "stable revision's; default DEPLOY_API_ROLLOUT_MAX_FAILURE_RATIO",
      }),
    ),
    minCalls: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000,
        description:
          'Finished calls of the candidate before its failure rate is judged; default ' +
          'DEPLOY_API_ROLLOUT_MIN_CALLS',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Rolls the revision that the write creates out gradually instead of to every worker',
  },
);

export const WriteResultSchema = Type.Object(
  {
    taskQueue: Type.String(),
    revision: Type.Integer({ minimum: 0 }),
    packages: Type.Array(Type.Ref(PinnedPackageSchema)),
    rollout: Type.Optional(RolloutStateSchema),
    changed: Type.Boolean({ description: 'false when the write matched the current state' }),
    dryRun: Type.Boolean({ description: 'true when nothing was stored (?dryRun=true)' }),
    diff: Type.Object({
      added: Type.Array(Type.Ref(PinnedPackageSchema)),
      removed: Type.Array(Type.Ref(PinnedPackageSchema)),
      changed: Type.Array(
        Type.Object({ name: Type.String(), from: Type.String(), to: Type.String() }),
      ),
      configured: Type.Optional(
        Type.Array(
          Type.Object({
            name: Type.String(),
            from: PackageSettingsSchema,
            to: PackageSettingsSchema,
          }),
          { description: 'Packages whose settings changed; absent when none did' },
        ),
      ),
      followed: Type.Optional(
        Type.Array(
          Type.Object({
            name: Type.String(),
            from: Type.Union([Type.Ref(FollowTargetSchema), Type.Null()]),
            to: Type.Union([Type.Ref(FollowTargetSchema), Type.Null()]),
          }),
          { description: 'Packages whose follow target changed; absent when none did' },
        ),
      ),
    }),
  },
  { $id: 'WriteResult' },
);

export const RevisionSchema = Type.Object(
  {
    revision: Type.Integer({ minimum: 1 }),
    action: Type.Union([
      Type.Literal('pin'),
      Type.Literal('unpin'),
      Type.Literal('rollback'),
      Type.Literal('configure'),
    ]),
    actor: Type.String(),
    reason: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    packages: Type.Array(Type.Ref(PinnedPackageSchema)),
    package: Type.Union([
      Type.Object({ name: Type.String(), spec: Type.Union([Type.String(), Type.Null()]) }),
      Type.Null(),
    ]),
    rollbackTo: Type.Union([Type.Integer(), Type.Null()]),
  },
  { $id: 'Revision' },
);

export const RevisionListSchema = Type.Object(
  {
    taskQueue: Type.String(),
    revisions: Type.Array(Type.Ref(RevisionSchema)),
  },
  { $id: 'RevisionList' },
);

export const TaskQueueParams = Type.Object({
  taskQueue: Type.String({ description: 'Temporal task queue name' }),
});

export const PackageParams = Type.Object({
  taskQueue: Type.String({ description: 'Temporal task queue name' }),
  '*': Type.String({
    description: 'Package name; a scoped name may be written plain or URL-encoded',
  }),
});

export const Reason = Type.String({
  maxLength: 1000,
  description: 'Why the change is made; recorded in the history',
});

export const PinBody = Type.Object(
  {
    version: Type.String({
      minLength: 1,
      maxLength: 256,
      description:
        'Exact version, semver range or dist-tag; resolved and stored as an exact version',
    }),
    reason: Type.Optional(Reason),
    config: Type.Optional(PackageConfigSchema),
    rollout: Type.Optional(RolloutRequestSchema),
    follow: Type.Optional(
      Type.Boolean({
        description:
          'true: keep resolving the range or dist-tag in `version` and record a new revision ' +
          '(actor auto-follow) when it selects another version; an exact version cannot be ' +
          'followed. Without it the pin stays put and stops any following',
      }),
    ),
    minAgeSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 31_536_000,
        description:
          'With follow: seconds a version must have been published (the registry time field) ' +
          'before the API follows to it; 0 or absent: at once',
      }),
    ),
  },
  { additionalProperties: false },
);
export type PinBody = Static<typeof PinBody>;

export const ConfigureBody = Type.Object(
  {
    config: Type.Optional(PackageConfigSchema),
    disabled: Type.Optional(
      Type.Boolean({ description: 'true: the worker registers none of the activities' }),
    ),
    disabledActivities: Type.Optional(
      Type.Array(ActivityName, {
        maxItems: 200,
        uniqueItems: true,
        description: 'Activities the worker does not register; [] enables them all again',
      }),
    ),
    reason: Type.Optional(Reason),
    rollout: Type.Optional(RolloutRequestSchema),
  },
  { additionalProperties: false },
);
export type ConfigureBody = Static<typeof ConfigureBody>;

export const UnpinBody = Type.Union([
  Type.Object(
    { reason: Type.Optional(Reason), rollout: Type.Optional(RolloutRequestSchema) },
    { additionalProperties: false },
  ),
  Type.Null(),
]);
export type UnpinBody = Static<typeof UnpinBody>;

export const RollbackBody = Type.Union([
  Type.Object(
    {
      revision: Type.Optional(
        Type.Integer({
          minimum: 1,
          description: 'Revision whose package set to restore; default: the one before the current',
        }),
      ),
      reason: Type.Optional(Reason),
      rollout: Type.Optional(RolloutRequestSchema),
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);
export type RollbackBody = Static<typeof RollbackBody>;

export const StateQuery = Type.Object(
  {
    wait: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 120,
        description:
          'Seconds to hold the request open while If-None-Match still matches the current ETag',
      }),
    ),
  },
  { additionalProperties: false },
);

export const WriteQuery = Type.Object(
  {
    dryRun: Type.Optional(
      Type.Boolean({
        description: 'Return the revision that the write would create, and store nothing',
      }),
    ),
  },
  { additionalProperties: false },
);

export const HistoryQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);

export const TokenRoleSchema = Type.Unsafe<TokenRole>({
  type: 'string',
  enum: ['read', 'deploy', 'admin'],
  description:
    'read: read and send worker reports; deploy: also pin, unpin and roll back; admin: everything',
});

const TokenInfoProperties = {
  name: Type.String(),
  role: TokenRoleSchema,
  taskQueues: Type.Union([Type.Array(Type.String()), Type.Null()], {
    description: 'Task queues the token may act on (exact names or * patterns); null: all',
  }),
  createdAt: Type.String({ format: 'date-time' }),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  bootstrap: Type.Boolean({ description: 'true for the token from DEPLOY_API_TOKEN' }),
};

export const TokenInfoSchema = Type.Object(TokenInfoProperties, { $id: 'TokenInfo' });

export const CreatedTokenSchema = Type.Object(
  {
    ...TokenInfoProperties,
    token: Type.String({ description: 'The secret; returned only in this response' }),
  },
  { $id: 'CreatedToken' },
);

export const TokenListSchema = Type.Object(
  { tokens: Type.Array(Type.Ref(TokenInfoSchema)) },
  { $id: 'TokenList' },
);

export const CreateTokenBody = Type.Object(
  {
    name: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$',
      description: 'Unique name, recorded as the actor of every write the token makes',
    }),
    role: TokenRoleSchema,
    taskQueues: Type.Optional(
      Type.Array(
        Type.String({
          pattern: '^[A-Za-z0-9*][A-Za-z0-9._:*-]{0,199}$',
          description: 'Exact task queue name, or a pattern in which * matches any characters',
        }),
        {
          minItems: 1,
          maxItems: 100,
          description: 'Task queues a read or deploy token may act on; omit for every queue',
        },
      ),
    ),
  },
  { additionalProperties: false },
);
export type CreateTokenBody = Static<typeof CreateTokenBody>;

export const TokenParams = Type.Object({ name: Type.String({ description: 'Token name' }) });

const VetoProperties = {
  name: Type.String(),
  version: Type.String(),
  reason: Type.String(),
  actor: Type.String({ description: 'Name of the token that vetoed the version' }),
  createdAt: Type.String({ format: 'date-time' }),
};

export const VetoSchema = Type.Object(VetoProperties, { $id: 'Veto' });

export const VetoResultSchema = Type.Object(
  {
    ...VetoProperties,
    rolledBack: Type.Array(
      Type.Object({ taskQueue: Type.String(), revision: Type.Integer({ minimum: 1 }) }),
      { description: 'Task queues that ran the version, with the revision each moved to' },
    ),
  },
  { $id: 'VetoResult' },
);

export const VetoListSchema = Type.Object(
  { name: Type.String(), vetoes: Type.Array(Type.Ref(VetoSchema)) },
  { $id: 'VetoList' },
);

export const VetoBody = Type.Object(
  {
    reason: Type.String({
      minLength: 1,
      maxLength: 1000,
      description: 'Why the version is bad; recorded with the veto and its rollbacks',
    }),
  },
  { additionalProperties: false },
);

export const LiftVetoBody = Type.Union([
  Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false }),
  Type.Null(),
]);
export type LiftVetoBody = Static<typeof LiftVetoBody>;

export const AuditEntrySchema = Type.Object(
  {
    id: Type.Integer({ minimum: 1 }),
    createdAt: Type.String({ format: 'date-time' }),
    actor: Type.String(),
    action: Type.Union(
      [
        'pin',
        'unpin',
        'rollback',
        'configure',
        'veto',
        'veto-lift',
        'token-create',
        'token-delete',
        'rollout-start',
        'rollout-step',
        'rollout-pause',
        'rollout-resume',
        'rollout-promote',
        'rollout-abort',
      ].map((action) => Type.Literal(action)),
    ),
    taskQueue: Type.Union([Type.String(), Type.Null()]),
    target: Type.Union([Type.String(), Type.Null()]),
    reason: Type.Union([Type.String(), Type.Null()]),
    before: Type.Unknown({
      description:
        'Package set, token summary (never its secret), veto or rollout before the write',
    }),
    after: Type.Unknown({ description: 'The same after the write' }),
  },
  { $id: 'AuditEntry' },
);

export const AuditListSchema = Type.Object(
  { entries: Type.Array(Type.Ref(AuditEntrySchema)) },
  { $id: 'AuditList' },
);

export const AuditQuery = Type.Object(
  {
    taskQueue: Type.Optional(Type.String({ description: 'Only the writes to this task queue' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);

export const RolloutActionBody = Type.Union([
  Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false }),
  Type.Null(),
]);
export type RolloutActionBody = Static<typeof RolloutActionBody>;

export const RolloutParams = Type.Object({
  taskQueue: Type.String({ description: 'Temporal task queue name' }),
  revision: Type.Integer({ minimum: 1, description: 'Candidate revision of the rollout' }),
});

const FollowCheckSchema = Type.Object({
  checkedAt: Type.String({ format: 'date-time' }),
  outcome: Type.Union(
    ['current', 'followed', 'held', 'skipped', 'rejected', 'failed'].map((outcome) =>
      Type.Literal(outcome),
    ),
  ),
  candidate: Type.Union([Type.String(), Type.Null()], {
    description: 'Version the follow target selected',
  }),
  code: Type.Union([Type.String(), Type.Null()], {
    description: 'Error code of a rejected, failed or skipped check',
  }),
  message: Type.Union([Type.String(), Type.Null()]),
  releaseAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'When a held version becomes old enough',
  }),
});

export const FollowStatusSchema = Type.Object(
  {
    taskQueue: Type.String(),
    revision: Type.Integer({ minimum: 0 }),
    packages: Type.Array(
      Type.Object({
        name: Type.String(),
        version: Type.String(),
        follow: Type.Ref(FollowTargetSchema),
        lastCheck: Type.Union([FollowCheckSchema, Type.Null()]),
        skippedVersions: Type.Array(
          Type.Object({
            version: Type.String(),
            revision: Type.Integer({ minimum: 1 }),
            createdAt: Type.String({ format: 'date-time' }),
          }),
          { description: 'Versions a rollback on this queue moved away from' },
        ),
      }),
    ),
  },
  { $id: 'FollowStatus' },
);

/**
 * Body that Verdaccio's notify hook sends, as the `content` template in
 * registry-config/config.yaml renders it from the publish metadata.
 */
export const RegistryHookBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 214, description: 'Package name' }),
    publishedPackage: Type.Optional(
      Type.String({ maxLength: 512, description: 'name@version that was published' }),
    ),
    publishType: Type.Optional(
      Type.Union([Type.Literal('publish'), Type.Literal('unpublish')], {
        description: 'What happened; both start a follow check of the package',
      }),
    ),
  },
  { additionalProperties: false },
);
export type RegistryHookBody = Static<typeof RegistryHookBody>;

export const HookResultSchema = Type.Object(
  {
    name: Type.String(),
    following: Type.Integer({
      minimum: 0,
      description: 'Following pins of the package; each is checked in the background',
    }),
  },
  { $id: 'HookResult' },
);

export const sharedSchemas = [
  ErrorSchema,
  FollowTargetSchema,
  PinnedPackageSchema,
  RolloutSchema,
  RolloutReportSchema,
  RolloutListSchema,
  TaskQueueStateSchema,
  WriteResultSchema,
  RevisionSchema,
  RevisionListSchema,
  TokenInfoSchema,
  CreatedTokenSchema,
  TokenListSchema,
  VetoSchema,
  VetoResultSchema,
  VetoListSchema,
  AuditEntrySchema,
  AuditListSchema,
  FollowStatusSchema,
  HookResultSchema,
];

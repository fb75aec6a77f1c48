import { Type, type Static } from '@sinclair/typebox';

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable error code, see the error catalogue' }),
      message: Type.String(),
    }),
  },
  { $id: 'Error' },
);

export const PinnedPackageSchema = Type.Object(
  {
    name: Type.String(),
    version: Type.String({ description: 'Exact version resolved at pin time' }),
    integrity: Type.String({ description: 'sha512 Subresource Integrity of the tarball' }),
  },
  { $id: 'PinnedPackage' },
);

export const TaskQueueStateSchema = Type.Object(
  {
    taskQueue: Type.String(),
    revision: Type.Integer({ minimum: 0 }),
    packages: Type.Array(Type.Ref(PinnedPackageSchema)),
  },
  { $id: 'TaskQueueState' },
);

export const WriteResultSchema = Type.Object(
  {
    taskQueue: Type.String(),
    revision: Type.Integer({ minimum: 0 }),
    packages: Type.Array(Type.Ref(PinnedPackageSchema)),
    changed: Type.Boolean({ description: 'false when the write matched the current state' }),
    dryRun: Type.Boolean({ description: 'true when nothing was stored (?dryRun=true)' }),
    diff: Type.Object({
      added: Type.Array(Type.Ref(PinnedPackageSchema)),
      removed: Type.Array(Type.Ref(PinnedPackageSchema)),
      changed: Type.Array(
        Type.Object({ name: Type.String(), from: Type.String(), to: Type.String() }),
      ),
    }),
  },
  { $id: 'WriteResult' },
);

export const RevisionSchema = Type.Object(
  {
    revision: Type.Integer({ minimum: 1 }),
    action: Type.Union([Type.Literal('pin'), Type.Literal('unpin'), Type.Literal('rollback')]),
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
  },
  { additionalProperties: false },
);
export type PinBody = Static<typeof PinBody>;

export const UnpinBody = Type.Union([
  Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false }),
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

export const sharedSchemas = [
  ErrorSchema,
  PinnedPackageSchema,
  TaskQueueStateSchema,
  WriteResultSchema,
  RevisionSchema,
  RevisionListSchema,
];

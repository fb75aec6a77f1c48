// Types for the part of @npmcli/arborist (v9) that the package store uses; the package
// ships none, and @types/npmcli__arborist describes an older major version.
declare module '@npmcli/arborist' {
  interface ArboristOptions {
    path: string;
    registry?: string;
    cache?: string;
    ignoreScripts?: boolean;
    legacyPeerDeps?: boolean;
    audit?: boolean;
    fund?: boolean;
    [key: string]: unknown;
  }
  interface ReifyOptions {
    omit?: Array<'dev' | 'optional' | 'peer'>;
    save?: boolean;
    packageLock?: boolean;
  }
  class Arborist {
    constructor(options: ArboristOptions);
    reify(options?: ReifyOptions): Promise<unknown>;
  }
  export default Arborist;
}

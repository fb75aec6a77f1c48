// Types for the part of npm-pick-manifest (v11) that the resolver uses; the package
// ships none.
declare module 'npm-pick-manifest' {
  interface PickedManifest {
    name: string;
    version: string;
    dist?: { integrity?: string; shasum?: string; tarball?: string };
  }
  function pickManifest(
    packument: unknown,
    wanted: string,
    options?: {
      defaultTag?: string;
      includeStaged?: boolean;
      /** A range of versions to pick only when nothing else satisfies `wanted`. */
      avoid?: string;
    },
  ): PickedManifest;
  export default pickManifest;
}

// Types for the part of libnpmpublish (v11) that the tests use; the package ships none.
declare module 'libnpmpublish' {
  const libnpmpublish: {
    publish(
      manifest: Record<string, unknown>,
      tarball: Buffer,
      options: Record<string, unknown>,
    ): Promise<unknown>;
  };
  export default libnpmpublish;
}

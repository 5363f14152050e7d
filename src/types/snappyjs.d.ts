/** snappyjs 0.7 ships no types. */
declare module 'snappyjs' {
  interface Snappy {
    /** Decompresses a snappy block; throws on a bad stream or a length above `maxLength`. */
    uncompress<T extends Uint8Array | ArrayBuffer>(compressed: T, maxLength?: number): T;
    compress<T extends Uint8Array | ArrayBuffer>(uncompressed: T): T;
  }
  const snappy: Snappy;
  export default snappy;
}

/** snappyjs 0.7 ships no types: the one function used here. */
declare module 'snappyjs' {
  interface Snappy {
    /** Decompresses a snappy block; throws on a bad stream or a length above `maxLength`. */
    uncompress<T extends Uint8Array | ArrayBuffer>(compressed: T, maxLength?: number): T;
  }
  const snappy: Snappy;
  export default snappy;
}

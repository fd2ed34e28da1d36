/**
 * The dense bucket store behind {@link DDSketch}: counts per integer bucket index in one growable
 * `Float64Array` with an offset, at most `maxBuckets` wide; past that, the lowest buckets collapse into one.
 *
 * @module
 */

const INITIAL_LENGTH = 64;
const EMPTY = new Float64Array(0);

/**
 * Counts per bucket index, for indices in a window of at most `maxBuckets` consecutive integers. Adding an
 * index that would widen the window past `maxBuckets` moves the window up to the highest index and adds
 * every count below it to its lowest bucket ("collapsing lowest"). Used by {@link DDSketch}; exported for
 * tests and for code that needs the raw buckets.
 */
export class BucketStore {
  private readonly maxBuckets: number;
  private counts: Float64Array = EMPTY;
  /** Bucket index of `counts[0]`. */
  private offset = 0;
  /** Lowest and highest non-empty indices; `lo > hi` when empty (so any index is "outside"). */
  private lo = 1;
  private hi = 0;
  private collapsedCount = 0;
  private totalCount = 0;

  /** A store of at most `maxBuckets` buckets (a positive integer, checked by the caller). */
  constructor(maxBuckets: number) {
    this.maxBuckets = maxBuckets;
  }

  /** Sum of the counts. */
  get count(): number {
    return this.totalCount;
  }

  /** Counts that were moved into a higher bucket by a collapse (0 while the window never overflowed). */
  get collapsed(): number {
    return this.collapsedCount;
  }

  /** Lowest non-empty bucket index (meaningless when empty). */
  get minIndex(): number {
    return this.lo;
  }

  /** Highest non-empty bucket index (meaningless when empty). */
  get maxIndex(): number {
    return this.hi;
  }

  /** Adds `count` (> 0) to bucket `index` (an integer). */
  add(index: number, count: number): void {
    if (index < this.lo || index > this.hi) {
      const target = this.extend(index);
      if (target !== index) this.collapsedCount += count;
      index = target;
    }
    const i = index - this.offset;
    this.counts[i] = (this.counts[i] as number) + count;
    this.totalCount += count;
  }

  /** The count of bucket `index` (0 outside the window). */
  countAt(index: number): number {
    if (index < this.lo || index > this.hi) return 0;
    return this.counts[index - this.offset] as number;
  }

  /**
   * The index of the bucket holding the element of 0-based `rank` in ascending index order (the first
   * bucket whose cumulative count exceeds `rank`); the highest index when `rank` ≥ count.
   */
  indexAtRankAscending(rank: number): number {
    const counts = this.counts;
    let cumulative = 0;
    for (let index = this.lo; index <= this.hi; index++) {
      cumulative += counts[index - this.offset] as number;
      if (cumulative > rank) return index;
    }
    return this.hi;
  }

  /** As {@link indexAtRankAscending}, counting from the highest index down. */
  indexAtRankDescending(rank: number): number {
    const counts = this.counts;
    let cumulative = 0;
    for (let index = this.hi; index >= this.lo; index--) {
      cumulative += counts[index - this.offset] as number;
      if (cumulative > rank) return index;
    }
    return this.lo;
  }

  /** Adds every bucket of `other` to this store (collapsing if the union is wider than `maxBuckets`). */
  mergeFrom(other: BucketStore): void {
    if (other.totalCount === 0) return;
    const counts = other.counts;
    const offset = other.offset;
    // Highest first, so that a collapse happens at most once and keeps the top of the union.
    for (let index = other.hi; index >= other.lo; index--) {
      const c = counts[index - offset] as number;
      if (c > 0) this.add(index, c);
    }
    this.collapsedCount += other.collapsedCount;
  }

  /** Empties the store, keeping its allocation. */
  clear(): void {
    if (this.lo <= this.hi) this.counts.fill(0, this.lo - this.offset, this.hi - this.offset + 1);
    this.lo = 1;
    this.hi = 0;
    this.totalCount = 0;
    this.collapsedCount = 0;
  }

  /** Widens the window to take `index`; returns the index to add to (the lowest bucket if collapsed). */
  private extend(index: number): number {
    if (this.lo > this.hi) {
      this.ensureCapacity(index, index);
      this.lo = index;
      this.hi = index;
      return index;
    }
    const newHi = index > this.hi ? index : this.hi;
    let newLo = index < this.lo ? index : this.lo;
    if (newHi - newLo + 1 > this.maxBuckets) {
      newLo = newHi - this.maxBuckets + 1;
      // Everything below newLo moves into bucket newLo.
      let moved = 0;
      const top = Math.min(this.hi, newLo - 1);
      for (let j = this.lo; j <= top; j++) {
        const i = j - this.offset;
        moved += this.counts[i] as number;
        this.counts[i] = 0;
      }
      // What is left of the old window (possibly nothing) is what ensureCapacity copies.
      if (this.hi < newLo) {
        this.lo = 1;
        this.hi = 0;
      } else if (this.lo < newLo) {
        this.lo = newLo;
      }
      this.ensureCapacity(newLo, newHi);
      this.lo = newLo;
      this.hi = newHi;
      const i = newLo - this.offset;
      this.counts[i] = (this.counts[i] as number) + moved;
      this.collapsedCount += moved;
      return index < newLo ? newLo : index;
    }
    this.ensureCapacity(newLo, newHi);
    this.lo = newLo;
    this.hi = newHi;
    return index;
  }

  /** Makes `counts` cover `[from, to]`, copying the current window `[lo, hi]` (its part inside). */
  private ensureCapacity(from: number, to: number): void {
    const length = this.counts.length;
    if (from >= this.offset && to < this.offset + length) return;
    const needed = to - from + 1;
    const newLength = Math.min(this.maxBuckets, Math.max(needed + 16, length * 2, INITIAL_LENGTH));
    const newOffset = from - ((newLength - needed) >> 1);
    const next = new Float64Array(newLength);
    const copyFrom = Math.max(this.lo, from);
    const copyTo = Math.min(this.hi, to);
    if (copyFrom <= copyTo) {
      next.set(this.counts.subarray(copyFrom - this.offset, copyTo - this.offset + 1), copyFrom - newOffset);
    }
    this.counts = next;
    this.offset = newOffset;
  }
}

/**
 * The events every implementation appends: the same type and the same small order payload (~120 bytes of
 * JSON), so every side serializes and stores the same bytes.
 *
 * @module
 */

/** The payload of the benchmark's `order.created` events (a type alias, so it is assignable to JSON types). */
export type OrderData = {
  orderId: number;
  customer: string;
  amount: number;
  currency: string;
  items: { sku: string; qty: number }[];
};

/** The type of every appended event. */
export const ORDER_CREATED = 'order.created';

/** The payload of the `i`-th event. */
export function orderData(i: number): OrderData {
  return {
    orderId: i,
    customer: `customer-${i % 1000}`,
    amount: 10 + (i % 97) * 1.25,
    currency: 'EUR',
    items: [
      { sku: `sku-${i % 50}`, qty: 1 + (i % 3) },
      { sku: `sku-${(i + 7) % 50}`, qty: 1 },
    ],
  };
}

/** A stream name unique to an implementation and an operation: `<prefix>-<i>`. */
export function streamName(prefix: string, i: number): string {
  return `${prefix}-${i}`;
}

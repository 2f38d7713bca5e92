/** The JustClick simulator's state: the account's bills (orders), in memory, without the secret. */
import { justClickOrderTextFields } from '../../apis/justclick/types.ts';
import type { JustClickOrderStatus } from '../../apis/justclick/types.ts';

/** Assumed status vocabulary: `waiting` (not paid yet) plus UpdateOrderStatus's four statuses. */
export type JustClickSimBillStatus = 'waiting' | JustClickOrderStatus;

export interface JustClickSimGood {
  /** `good_name`: the product id in the shop. */
  name: string;
  /** `good_sum` as sent (e.g. "990.00"), or null when the request left it out. */
  sum: string | null;
}

/** A bill's text fields: CreateOrder's but the email, in its order; empty unless CreateOrder sent them. */
const billTextFields = justClickOrderTextFields.map(([field]) => field).filter((field) => field !== 'email');
type BillTexts = Record<Exclude<(typeof justClickOrderTextFields)[number][0], 'email'>, string>;

export interface JustClickSimBill extends BillTexts {
  billId: string;
  email: string;
  utm: Record<string, string>;
  goods: JustClickSimGood[];
  status: JustClickSimBillStatus;
  createdAt: number;
  paidAt: number | null;
  sentAt: number | null;
  trackingNumber: string | null;
}

/** `billId` defaults to the next free number from 100001. */
export type JustClickSimNewBill = Partial<Omit<JustClickSimBill, 'email' | 'goods'>> & {
  email: string;
  goods: Array<{ name: string; sum?: string | null }>;
};

export class JustClickSimStateError extends Error {
  override readonly name = 'JustClickSimStateError';
}

export class JustClickSimState {
  readonly login: string;
  private readonly bills = new Map<string, JustClickSimBill>();
  private nextNumber = 100001;
  private readonly now: () => number;

  constructor(login: string, now: () => number = () => Math.floor(Date.now() / 1000)) {
    this.login = login;
    this.now = now;
  }

  /** Creates a bill; throws if `billId` is taken (the API answers 601 before calling this). */
  createBill(input: JustClickSimNewBill): JustClickSimBill {
    if (typeof input.email !== 'string' || input.email === '') throw new JustClickSimStateError('a bill needs an email');
    if (!Array.isArray(input.goods) || input.goods.length === 0) throw new JustClickSimStateError('a bill needs at least one good');
    let billId = input.billId;
    if (billId === undefined) {
      while (this.bills.has(String(this.nextNumber))) this.nextNumber++;
      billId = String(this.nextNumber++);
    } else if (billId === '') {
      throw new JustClickSimStateError('a bill id must not be empty');
    } else if (this.bills.has(billId)) {
      throw new JustClickSimStateError(`bill ${billId} exists already`);
    }
    const bill: JustClickSimBill = {
      ...(Object.fromEntries(billTextFields.map((field) => [field, ''])) as BillTexts),
      utm: {},
      status: 'waiting',
      createdAt: this.now(),
      paidAt: null,
      sentAt: null,
      trackingNumber: null,
      ...input,
      billId,
      goods: input.goods.map((good) => ({ name: good.name, sum: good.sum ?? null })),
    };
    this.bills.set(billId, bill);
    return structuredClone(bill);
  }

  hasBill(billId: string): boolean {
    return this.bills.has(billId);
  }

  getBill(billId: string): JustClickSimBill | undefined {
    const bill = this.bills.get(billId);
    return bill === undefined ? undefined : structuredClone(bill);
  }

  listBills(): JustClickSimBill[] {
    return [...this.bills.values()].map((bill) => structuredClone(bill));
  }

  /** True when the bill existed. */
  deleteBill(billId: string): boolean {
    return this.bills.delete(billId);
  }

  setStatus(billId: string, status: JustClickOrderStatus, details: { date?: number; trackingNumber?: string } = {}): JustClickSimBill {
    const bill = this.bills.get(billId);
    if (bill === undefined) throw new JustClickSimStateError(`bill ${billId} does not exist`);
    bill.status = status;
    if (status === 'paid') bill.paidAt = details.date ?? this.now();
    if (status === 'sent') {
      bill.sentAt = details.date ?? this.now();
      bill.trackingNumber = details.trackingNumber ?? bill.trackingNumber;
    }
    return structuredClone(bill);
  }

  snapshot(): { login: string; bills: JustClickSimBill[] } {
    return { login: this.login, bills: this.listBills() };
  }
}

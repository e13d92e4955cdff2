/** The answers of `GET /api/dashboard` and what `GET /api/dashboard/instances` is asked (worker/dashboard.ts). */
export interface Dashboard {
  at: string;
  period: { from: string; to: string };
  openByState: { procedure: string; state: string; count: number }[];
  overdueByDay: { day: string; count: number }[];
  cycleTimes: { procedure: string; count: number; medianMs: number; p90Ms: number }[];
  breachesByMonth: { month: string; procedure: string; count: number }[];
  awaitingByRole: { role: string; count: number }[];
  transitionsByPerson: { actor: string; transitions: number; instances: number }[];
  timings: Record<string, number>;
}

/** One element of a chart whose instances are listed by workflow id. */
export type DrillQuery =
  | { chart: 'overdue'; day: string }
  | { chart: 'breaches'; month: string; procedure: string }
  | { chart: 'cycle'; procedure: string }
  | { chart: 'person'; actor: string };

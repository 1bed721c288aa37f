/**
 * A readiness check's failure that may be shown as it is on /readyz (a fixed phrase such as "token refresh
 * failed"). Any other failure shows only that the dependency is down: raw errors name hosts, users and
 * internals, and /readyz answers anyone.
 */
export class ReadinessProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReadinessProblem';
  }
}

/**
 * Who may do what through the console, once security is on: a viewer reads (every GET), an
 * operator also runs day-to-day actions (pause, resume and throttle mirror flows, reset a
 * group's offsets), an admin may do everything (create and delete topics, alter configs,
 * delete groups).
 */
export type ConsoleRole = 'viewer' | 'operator' | 'admin';

/** Roles from weakest to strongest: each may do what the ones before it may. */
export const CONSOLE_ROLES: readonly ConsoleRole[] = ['viewer', 'operator', 'admin'];

/** What an endpoint asks for: a role, or nothing at all (health, readiness). */
export type RequiredRole = ConsoleRole | 'public';

export function isConsoleRole(v: unknown): v is ConsoleRole {
  return typeof v === 'string' && (CONSOLE_ROLES as readonly string[]).includes(v);
}

/** Whether a token with role `has` may call an endpoint that needs `needs`. */
export function roleAllows(has: ConsoleRole, needs: RequiredRole): boolean {
  return needs === 'public' || CONSOLE_ROLES.indexOf(has) >= CONSOLE_ROLES.indexOf(needs);
}

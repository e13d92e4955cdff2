/** What the user-directory routes answer (worker/api/routes/users.route.ts). */
import type { Text } from '../../../../workflows/core/ir.ts';

export interface DirectoryUser {
  id: string;
  displayName: string;
  roles: string[];
  clients: string[];
  disabled: boolean;
  createdAt: string;
}

export interface RoleOption {
  id: string;
  title: Text;
  description?: Text;
  engine: boolean;
  procedures: string[];
  seesAllClients: boolean;
}

/** A one-time link where a user sets a password: a path on this site and its expiry. */
export interface PasswordLink {
  path: string;
  expiresAt: string;
}

// The two ends of a session, a direct attempt or a secure channel: the initiator speaks first.
export type Role = 'initiator' | 'responder';

export function otherRole(role: Role): Role {
  return role === 'initiator' ? 'responder' : 'initiator';
}

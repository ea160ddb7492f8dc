/**
 * Whether a token from the IdP (an ID token, a back-channel logout token) is for the broker alone
 * (ADR 0198): OIDC Core 3.1.3.7 (3) refuses audiences the client does not trust, and the broker trusts
 * none but its own client_id (a token for two clients is one the other client could present too);
 * (5) an `azp`, when present, names the client. openid-client and jose check only that `aud` contains
 * the client_id, and openid-client reads `azp` only beside a second audience. Which claim is at fault,
 * or undefined when neither is.
 */
export function audienceFault(
  claims: { aud?: unknown; azp?: unknown },
  clientId: string,
): 'aud' | 'azp' | undefined {
  const audiences: unknown[] = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.every((aud) => aud === clientId)) return 'aud';
  return claims.azp === undefined || claims.azp === clientId ? undefined : 'azp';
}

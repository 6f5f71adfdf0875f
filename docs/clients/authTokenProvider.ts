// AuthTokenProvider for Indriva (and Amili's creditor API), for Node.js 18+.
//
// Signs a short-lived JWT ({api_code, exp}) with your private key, exchanges it at
// GET /authenticates/api-code for an access token, caches the token and renews it shortly
// before it expires. Use the token as the X-API-Key header on every other request.
//
//   npm install jose
//   const auth = AuthTokenProvider.fromCredentialsFile('indriva-data/sandbox-credentials.json',
//                                                      'http://127.0.0.1:8080')
//   await fetch(`${base}/cases`, { headers: { 'X-API-Key': await auth.getValidToken() } })

import { readFileSync } from 'node:fs'
import { SignJWT, importPKCS8 } from 'jose'

export class AuthTokenProvider {
  private token: string | null = null
  private expiresAt = 0
  private pending: Promise<string> | null = null

  constructor(
    private readonly apiUrl: string,
    private readonly apiCode: string,
    private readonly privateKeyPem: string,
    private readonly algorithm = 'ES256',
    private readonly renewBeforeSeconds = 60,
  ) {}

  static fromCredentialsFile(path: string, apiUrl: string): AuthTokenProvider {
    const c = JSON.parse(readFileSync(path, 'utf8'))
    return new AuthTokenProvider(apiUrl.replace(/\/$/, ''), c.api_code, c.private_key_pem, c.algorithm ?? 'ES256')
  }

  /** A token valid for at least `renewBeforeSeconds` more. */
  async getValidToken(): Promise<string> {
    if (this.token && Date.now() / 1000 < this.expiresAt - this.renewBeforeSeconds) {
      return this.token
    }
    // One renewal at a time, however many callers ask.
    this.pending ??= this.authenticate().finally(() => {
      this.pending = null
    })
    return this.pending
  }

  private async authenticate(): Promise<string> {
    const key = await importPKCS8(this.privateKeyPem, this.algorithm)
    const jwt = await new SignJWT({ api_code: this.apiCode })
      .setProtectedHeader({ alg: this.algorithm, typ: 'JWT' })
      .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
      .sign(key)
    const r = await fetch(`${this.apiUrl}/authenticates/api-code`, { headers: { 'X-API-Key': jwt } })
    if (!r.ok) throw new Error(`authentication failed: ${r.status} ${await r.text()}`)
    const body = (await r.json()) as { token: string; expires: string }
    this.token = body.token
    this.expiresAt = Date.parse(body.expires) / 1000
    return this.token
  }
}

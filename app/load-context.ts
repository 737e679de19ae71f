/** What server/index.ts hands every loader and action besides the request. */
declare module '@remix-run/node' {
  interface AppLoadContext {
    /** The client's address: the socket's, or the one a trusted proxy names (TRUST_PROXY). */
    clientAddress?: string
    /** This response's Content-Security-Policy nonce, for the scripts Remix renders. */
    cspNonce?: string
  }
}

export {}

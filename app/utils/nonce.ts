import { createContext, useContext } from 'react'

const NonceContext = createContext<string | undefined>(undefined)

/** Provides this response's Content-Security-Policy nonce to the document (entry.server.tsx). */
export const NonceProvider = NonceContext.Provider

/** The nonce for scripts the document renders; undefined in the browser, which never needs it. */
export const useNonce = () => useContext(NonceContext)

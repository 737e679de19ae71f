import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import {
  Form,
  isRouteErrorResponse,
  Link,
  Links,
  Meta,
  Outlet,
  Scripts,
  ScrollRestoration,
  useRouteError,
  useRouteLoaderData,
} from '@remix-run/react'
import type { ReactNode } from 'react'
import { z } from 'zod'
import { getOptionalAdmin } from '~/utils/auth.server'
import { useNonce } from './utils/nonce'
import stylesUrl from './styles.css?url'

// In the browser, zod must not probe for eval (`new Function`): the Content-Security-Policy refuses it
// and every page with a form would report a violation. Set here, before any route's schema is used;
// the server keeps zod's faster compiled parsers.
if (typeof document !== 'undefined') z.config({ jitless: true })

export const links: LinksFunction = () => [
  { rel: 'stylesheet', href: stylesUrl },
  { rel: 'icon', href: '/favicon.svg', type: 'image/svg+xml' },
]
export const meta: MetaFunction = () => [{ title: 'Product images' }]

export async function loader({ request }: LoaderFunctionArgs) {
  const admin = await getOptionalAdmin(request)
  return { admin: admin ? { email: admin.email } : null }
}

export function Layout({ children }: { children: ReactNode }) {
  const data = useRouteLoaderData<typeof loader>('root')
  const nonce = useNonce()
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body>
        <header className="site">
          <Link className="brand" to="/products">
            Product images
          </Link>
          {data?.admin ? (
            <span>
              {data.admin.email}{' '}
              <Form method="post" action="/logout">
                <button type="submit" className="secondary">
                  Sign out
                </button>
              </Form>
            </span>
          ) : null}
        </header>
        <main>{children}</main>
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  )
}

export default function App() {
  return <Outlet />
}

export function ErrorBoundary() {
  const error = useRouteError()
  if (isRouteErrorResponse(error)) {
    const message =
      typeof error.data === 'string'
        ? error.data
        : typeof error.data === 'object' && error.data && 'error' in error.data
          ? String(error.data.error)
          : error.statusText
    return (
      <>
        <h1>{error.status === 404 ? 'Not found' : `Error ${error.status}`}</h1>
        <p>{message || 'Something went wrong.'}</p>
        <p>
          <Link to="/products">Back to products</Link>
        </p>
      </>
    )
  }
  console.error(error)
  return (
    <>
      <h1>Something went wrong</h1>
      <p>The error was logged. Please try again.</p>
    </>
  )
}

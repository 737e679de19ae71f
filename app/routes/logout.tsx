import { redirect, type ActionFunctionArgs } from '@remix-run/node'
import { requireSameOrigin, signOut } from '~/utils/auth.server'

export async function action({ request }: ActionFunctionArgs) {
  requireSameOrigin(request)
  return signOut(request)
}

export const loader = () => redirect('/products')

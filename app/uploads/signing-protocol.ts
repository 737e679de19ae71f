import { z } from 'zod'
// Loaded first in the browser: zod runs without eval there (the CSP allows none).
import '~/utils/product-schema'

/**
 * The answers of POST /uploads/sign, shared by the route (app/uploads/signing.server.ts) and the
 * browser's signing client (app/components/uploader/signer.client.ts), which checks every answer
 * against these schemas instead of trusting its shape.
 */
export const SignedRequestSchema = z.object({
  method: z.enum(['PUT', 'POST', 'GET', 'DELETE']),
  url: z.url(),
  /** The key the server chose; returned for new uploads. */
  key: z.string().optional(),
  /** Headers the browser must send as signed (Content-Length is set by the browser itself). */
  headers: z.record(z.string(), z.string()).optional(),
  /** For new uploads: the signed reference the form submits once the upload has finished. */
  ref: z.string().optional(),
})
export type SignedRequest = z.infer<typeof SignedRequestSchema>

/**
 * The MD5 of the bytes a single PUT or a part will carry, lowercase hex, as the uploader computes it
 * (app/components/uploader/digest.worker.ts). The server signs it into the URL as Content-MD5, so S3
 * refuses other bytes (BadDigest), and records it to hold the finished object's ETag to it.
 */
export const Md5HexSchema = z.string().regex(/^[0-9a-f]{32}$/, 'not an MD5 in lowercase hex')

/** A refusal, of one request or of a whole call: its message for the admin, and its HTTP status. */
export const SignRefusalSchema = z.object({ error: z.string(), status: z.number().int().optional() })

/** One answer of a batch: the signed request, or why that one was refused. */
export const BatchItemSchema = z.union([SignedRequestSchema, SignRefusalSchema.required()])
export type BatchItem = z.infer<typeof BatchItemSchema>

export const BatchAnswerSchema = z.object({ results: z.array(BatchItemSchema) })

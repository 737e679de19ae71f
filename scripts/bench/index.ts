/**
 * npm run bench: runs every benchmark against fresh local services and prints one table.
 * Medians of several runs; the goals are the product's targets, not test assertions.
 */
import { benchFormUpload } from './form-upload'
import { printTable, type Row } from './support'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
const rows: Row[] = []
rows.push(...(await benchFormUpload()))
console.log()
printTable(rows)

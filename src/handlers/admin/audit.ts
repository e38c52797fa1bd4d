// Every admin write leaves a record of who changed what, before and after.

import type { AuditDoc } from '../../store/documents.js'
import type { Collections } from '../../store/mongo.js'

export async function recordAudit (audit: Collections['audit'], entry: Omit<AuditDoc, 'at'>, at: Date): Promise<void> {
  await audit.insertOne({ at, ...entry })
}

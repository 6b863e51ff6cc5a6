import type { Extension, Patient, Resource } from '@medplum/fhirtypes';
import { CLOSURE_EXTENSION } from '../access/codes';
import type { RequestContext } from './context';
import { errors } from './outcomes';
import type { StoredResource } from './versioning';
import type { ResourceWriter, WriteHooks } from './writer';

/**
 * Closing and reopening a DMP (DMP-RULES.md § 1): the Patient becomes
 * inactive, with the closure date and reason in an extension, and active
 * again on reopening (the closure stays in the Patient's history). Called by
 * FhirService once the caller is allowed; the only writes that may change
 * `Patient.active`.
 */
export class RecordLife {
  constructor(
    private readonly writer: ResourceWriter,
    private readonly now: () => number,
  ) {}

  close(_ctx: RequestContext, id: string, reason: string | undefined, hooks: WriteHooks): Promise<StoredResource> {
    return this.change(id, hooks, (p) => {
      if (p.active === false) throw errors.unprocessable('This DMP is already closed');
      const closure: Extension = {
        url: CLOSURE_EXTENSION,
        extension: [{ url: 'date', valueDateTime: new Date(this.now()).toISOString() }, ...(reason ? [{ url: 'reason', valueString: reason }] : [])],
      };
      return { ...p, active: false, extension: [...withoutClosure(p), closure] };
    });
  }

  reopen(_ctx: RequestContext, id: string, hooks: WriteHooks): Promise<StoredResource> {
    return this.change(id, hooks, (p) => {
      if (p.active !== false) throw errors.unprocessable('This DMP is open');
      const extension = withoutClosure(p);
      const { extension: _e, ...rest } = p;
      return { ...rest, active: true, ...(extension.length > 0 ? { extension } : {}) };
    });
  }

  private async change(id: string, hooks: WriteHooks, next: (p: Patient) => Patient): Promise<StoredResource> {
    const result = await this.writer.replace('Patient', id, (current: Resource) => next(current as Patient), hooks);
    return result;
  }
}

function withoutClosure(p: Patient): Extension[] {
  return (p.extension ?? []).filter((e) => e.url !== CLOSURE_EXTENSION);
}

/** When a DMP was closed (`$close`), from its Patient; undefined when open. */
export function closedAt(p: Patient): string | undefined {
  if (p.active !== false) return undefined;
  return p.extension?.find((e) => e.url === CLOSURE_EXTENSION)?.extension?.find((e) => e.url === 'date')?.valueDateTime;
}

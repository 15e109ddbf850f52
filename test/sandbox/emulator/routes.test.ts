import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MACIE_ROUTES, matchMacieRoute } from '#sandbox/emulator/macie-http';

// The handbook's copy of the service model sits beside the project (../shared); CI clones it there too.
const MODEL = new URL('../../../../shared/aws-models/macie2-2020-01-01.service-2.json', import.meta.url);

interface ServiceModel {
  operations: Record<string, { http: { method: string; requestUri: string; responseCode?: number } }>;
}

describe('Macie routes', () => {
  it.skipIf(!existsSync(MODEL))('match the service model\'s method, URI and response code for every served operation', () => {
    const model = JSON.parse(readFileSync(MODEL, 'utf8')) as ServiceModel;
    for (const route of MACIE_ROUTES) {
      const http = model.operations[route.operation]?.http;
      expect(http, route.operation).toBeDefined();
      expect({ method: route.method, requestUri: route.requestUri, responseCode: route.responseCode }, route.operation).toEqual({
        method: http?.method,
        requestUri: http?.requestUri,
        responseCode: http?.responseCode ?? 200,
      });
    }
  });

  it('decodes a URL-encoded ARN in one path segment without splitting on its slash', () => {
    const arn = 'arn:aws:macie2:eu-west-1:111111111111:member/222222222222';
    const matched = matchMacieRoute('POST', `/tags/${encodeURIComponent(arn)}`);
    expect(matched?.route.operation).toBe('TagResource');
    expect(matched?.pathParams).toEqual({ resourceArn: arn });
  });

  it('tells routes apart by method and by literal segments', () => {
    expect(matchMacieRoute('GET', '/members/222222222222')?.route.operation).toBe('GetMember');
    expect(matchMacieRoute('DELETE', '/members/222222222222')?.route.operation).toBe('DeleteMember');
    expect(matchMacieRoute('POST', '/members/disassociate/222222222222')?.route.operation).toBe('DisassociateMember');
    expect(matchMacieRoute('GET', '/invitations/count')?.route.operation).toBe('GetInvitationsCount');
    expect(matchMacieRoute('PATCH', '/macie/members/222222222222')?.route.operation).toBe('UpdateMemberSession');
    expect(matchMacieRoute('PUT', '/members')).toBeUndefined();
    expect(matchMacieRoute('GET', '/findings')).toBeUndefined();
  });
});

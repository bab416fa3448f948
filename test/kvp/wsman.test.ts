// WS-Management envelopes parse with @xmldom/xmldom and match the reference's description and
// example element for element (namespaces, selector names, EPR layout); replies are read back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DOMParser, XMLSerializer, type Element } from '@xmldom/xmldom';
import { diffXml, DONTCARE } from '../../engine/xml/compare.js';
import {
  renderAddKvpItemsEnvelope,
  renderRemoveKvpItemsEnvelope,
  renderGetSummaryInformationEnvelope,
  renderKvpItem,
  parseKvpItem,
  parseMethodResponse,
  summaryInformationOf,
  eprToUri,
  vmmsSelectors,
  hypervResourceUri,
  WsmanResponseError,
  SUMMARY_INFORMATION,
} from '../../engine/kvp/index.js';

const S = 'http://www.w3.org/2003/05/soap-envelope';
const A = 'http://schemas.xmlsoap.org/ws/2004/08/addressing';
const W = 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd';
const VMMS = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Msvm_VirtualSystemManagementService';
const ANON = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';

function parseStrict(xml: string) {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level, msg) => void errors.push(`${level}: ${msg}`) }).parseFromString(xml, 'text/xml');
  assert.deepEqual(errors, [], 'the envelope parses without a warning');
  return doc;
}

/** The header the reference (§7) describes, for the service on host HYPERV-1. */
function expectedHeader(method: string): string {
  return `
  <s:Header>
    <a:To>http://HYPERV-1:5985/wsman</a:To>
    <w:ResourceURI s:mustUnderstand="true">${VMMS}</w:ResourceURI>
    <a:ReplyTo><a:Address>${ANON}</a:Address></a:ReplyTo>
    <a:Action s:mustUnderstand="true">${VMMS}/${method}</a:Action>
    <w:MaxEnvelopeSize s:mustUnderstand="true">153600</w:MaxEnvelopeSize>
    <a:MessageID>${DONTCARE}</a:MessageID>
    <w:Locale xml:lang="en-US" s:mustUnderstand="false"/>
    <w:SelectorSet>
      <w:Selector Name="CreationClassName">Msvm_VirtualSystemManagementService</w:Selector>
      <w:Selector Name="Name">vmms</w:Selector>
      <w:Selector Name="SystemCreationClassName">Msvm_ComputerSystem</w:Selector>
      <w:Selector Name="SystemName">HYPERV-1</w:Selector>
    </w:SelectorSet>
    <w:OperationTimeout>PT60.000S</w:OperationTimeout>
  </s:Header>`;
}

const VM = '5C8A3F57-0E7B-4B6B-9C1E-7F0D0B2D9A11';
const items = [
  { key: 'euca.user-data.0', value: '#!/bin/sh\necho "a<b" & true\r\n' },
  { key: 'euca.password.0', value: "p'w\"d]]>" },
];

test('AddKvpItems envelope: header, service selectors, TargetSystem EPR, one DataItems element per item', () => {
  const xml = renderAddKvpItemsEnvelope({ host: 'HYPERV-1', vmName: VM, items });
  parseStrict(xml);
  // Prefixes deliberately differ from ours: the comparison is by namespace URI.
  const expected = `<env:Envelope xmlns:env="${S}" xmlns:s="${S}" xmlns:a="${A}" xmlns:w="${W}">
  ${expectedHeader('AddKvpItems').replace(/<(\/?)s:(Header)/g, '<$1env:$2')}
  <env:Body>
    <svc:AddKvpItems_INPUT xmlns:svc="${VMMS}">
      <svc:TargetSystem>
        <a:Address>${ANON}</a:Address>
        <a:ReferenceParameters>
          <w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Msvm_ComputerSystem</w:ResourceURI>
          <w:SelectorSet>
            <w:Selector Name="CreationClassName">Msvm_ComputerSystem</w:Selector>
            <w:Selector Name="Name">${VM}</w:Selector>
          </w:SelectorSet>
        </a:ReferenceParameters>
      </svc:TargetSystem>
      <svc:DataItems>${DONTCARE}</svc:DataItems>
      <svc:DataItems>${DONTCARE}</svc:DataItems>
    </svc:AddKvpItems_INPUT>
  </env:Body>
</env:Envelope>`;
  assert.equal(diffXml(xml, expected, {}, ['domforge', 'reference']), undefined);
});

test('AddKvpItems envelope: each DataItems carries the CIM-XML instance, as text or as CDATA', () => {
  for (const embedding of ['text', 'cdata'] as const) {
    const xml = renderAddKvpItemsEnvelope({ host: 'HYPERV-1', vmName: VM, items, embedding, messageId: 'uuid:00000000-0000-0000-0000-000000000001' });
    const doc = parseStrict(xml);
    const dataItems = doc.getElementsByTagNameNS(VMMS, 'DataItems');
    assert.equal(dataItems.length, 2);
    for (let i = 0; i < 2; i++) {
      const text = dataItems.item(i)!.textContent!;
      assert.equal(text, renderKvpItem(items[i]!.key, items[i]!.value), `${embedding}: item ${i} is the rendered instance`);
      assert.deepEqual(parseKvpItem(text), { name: items[i]!.key, data: items[i]!.value, source: 0 });
    }
    assert.equal(doc.getElementsByTagNameNS(A, 'MessageID').item(0)!.textContent, 'uuid:00000000-0000-0000-0000-000000000001');
    if (embedding === 'cdata') assert.match(xml, /<p:DataItems><!\[CDATA\[<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem">/);
  }
});

test('RemoveKvpItems and ModifyKvpItems share the shape; v1 drops /v2 from every URI', () => {
  const xml = renderRemoveKvpItemsEnvelope({ host: 'HYPERV-1', vmName: VM, items: [{ key: 'euca.password.0', value: '' }], namespace: 'v1', endpoint: 'https://hv.example:5986/wsman' });
  const doc = parseStrict(xml);
  const v1 = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/Msvm_VirtualSystemManagementService';
  assert.equal(doc.getElementsByTagNameNS(A, 'Action').item(0)!.textContent, `${v1}/RemoveKvpItems`);
  assert.equal(doc.getElementsByTagNameNS(v1, 'RemoveKvpItems_INPUT').length, 1);
  assert.equal(doc.getElementsByTagNameNS(A, 'To').item(0)!.textContent, 'https://hv.example:5986/wsman');
  assert.ok(!xml.includes('/v2/'));
});

test('GetSummaryInformation: SettingData EPRs match the reference example, RequestedInformation repeated', () => {
  const xml = renderGetSummaryInformationEnvelope({
    host: 'HYPERV-1',
    namespace: 'v1',
    settingData: ['Microsoft:4DA77B7B-7F11-4735-A18F-46B57D2438C7'],
    requestedInformation: [1, 4, 101, 105],
  });
  const doc = parseStrict(xml);
  const v1 = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/Msvm_VirtualSystemManagementService';
  const settingData = doc.getElementsByTagNameNS(v1, 'SettingData');
  assert.equal(settingData.length, 1);
  // The example of the reference, verbatim, with its prefixes bound.
  const reference = `<p:SettingData xmlns:p="${v1}" xmlns:a="${A}" xmlns:w="${W}">
  <a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address>
  <a:ReferenceParameters>
    <w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/Msvm_VirtualSystemSettingData</w:ResourceURI>
    <w:SelectorSet><w:Selector Name="InstanceID">Microsoft:4DA77B7B-7F11-4735-A18F-46B57D2438C7</w:Selector></w:SelectorSet>
  </a:ReferenceParameters>
</p:SettingData>`;
  const ours = new XMLSerializer().serializeToString(settingData.item(0) as Element);
  assert.equal(diffXml(ours, reference, {}, ['domforge', 'reference']), undefined);
  const requested = doc.getElementsByTagNameNS(v1, 'RequestedInformation');
  assert.deepEqual(
    Array.from({ length: requested.length }, (_, i) => requested.item(i)!.textContent),
    ['1', '4', '101', '105'],
  );
  const header = doc.getElementsByTagNameNS(S, 'Header').item(0)!;
  const selectors = header.getElementsByTagNameNS(W, 'Selector');
  assert.deepEqual(
    Array.from({ length: selectors.length }, (_, i) => `${selectors.item(i)!.getAttribute('Name')}=${selectors.item(i)!.textContent}`),
    ['CreationClassName=Msvm_VirtualSystemManagementService', 'Name=vmms', 'SystemCreationClassName=Msvm_ComputerSystem', 'SystemName=HYPERV-1'],
  );
  assert.equal(SUMMARY_INFORMATION.EnabledState, 100);
});

test('the header of GetSummaryInformation matches the reference description', () => {
  const xml = renderGetSummaryInformationEnvelope({ host: 'HYPERV-1', settingData: [], requestedInformation: [SUMMARY_INFORMATION.ElementName] });
  const expected = `<s:Envelope xmlns:s="${S}" xmlns:a="${A}" xmlns:w="${W}">${expectedHeader('GetSummaryInformation')}
  <s:Body><p:GetSummaryInformation_INPUT xmlns:p="${VMMS}"><p:RequestedInformation>1</p:RequestedInformation></p:GetSummaryInformation_INPUT></s:Body>
</s:Envelope>`;
  assert.equal(diffXml(xml, expected), undefined);
});

test('the URI form of an EPR joins selectors with +', () => {
  assert.equal(
    eprToUri({ resourceUri: hypervResourceUri('Msvm_VirtualSystemManagementService'), selectors: vmmsSelectors('HYPERV-1') }),
    `${VMMS}?CreationClassName=Msvm_VirtualSystemManagementService+Name=vmms+SystemCreationClassName=Msvm_ComputerSystem+SystemName=HYPERV-1`,
  );
});

const reply = (body: string) => `<s:Envelope xmlns:s="${S}" xmlns:a="${A}" xmlns:w="${W}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <s:Header><a:Action>${VMMS}/AddKvpItemsResponse</a:Action><a:RelatesTo>uuid:1</a:RelatesTo></s:Header>
  <s:Body>${body}</s:Body>
</s:Envelope>`;

test('AddKvpItems_OUTPUT: ReturnValue and the Job reference', () => {
  const out = parseMethodResponse(
    reply(`<p:AddKvpItems_OUTPUT xmlns:p="${VMMS}">
      <p:Job>
        <a:Address>${ANON}</a:Address>
        <a:ReferenceParameters>
          <w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Msvm_ConcreteJob</w:ResourceURI>
          <w:SelectorSet><w:Selector Name="InstanceID">0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0</w:Selector></w:SelectorSet>
        </a:ReferenceParameters>
      </p:Job>
      <p:ReturnValue>4096</p:ReturnValue>
    </p:AddKvpItems_OUTPUT>`),
    'AddKvpItems',
  );
  assert.equal(out.method, 'AddKvpItems');
  assert.equal(out.returnValue, 4096);
  assert.match(out.status, /job started/);
  assert.deepEqual(out.job, {
    address: ANON,
    resourceUri: 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Msvm_ConcreteJob',
    selectors: [{ name: 'InstanceID', value: '0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0' }],
  });
  const failed = parseMethodResponse(reply(`<p:AddKvpItems_OUTPUT xmlns:p="${VMMS}"><p:Job xsi:nil="true"/><p:ReturnValue>32773</p:ReturnValue></p:AddKvpItems_OUTPUT>`));
  assert.equal(failed.returnValue, 32773);
  assert.equal(failed.job, undefined);
  assert.match(failed.status, /invalid parameter/);
});

test('GetSummaryInformation_OUTPUT: SummaryInformation fields, arrays and nil', () => {
  const out = parseMethodResponse(
    reply(`<p:GetSummaryInformation_OUTPUT xmlns:p="${VMMS}">
      <p:ReturnValue>0</p:ReturnValue>
      <p:SummaryInformation>
        <p:ElementName>i-12345678</p:ElementName>
        <p:EnabledState>2</p:EnabledState>
        <p:NumberOfProcessors>2</p:NumberOfProcessors>
        <p:OperationalStatus>2</p:OperationalStatus>
        <p:OperationalStatus>32896</p:OperationalStatus>
        <p:Notes xsi:nil="true"/>
        <p:UpTime>123456</p:UpTime>
      </p:SummaryInformation>
      <p:SummaryInformation><p:ElementName>other</p:ElementName></p:SummaryInformation>
    </p:GetSummaryInformation_OUTPUT>`),
    'GetSummaryInformation',
  );
  assert.equal(out.returnValue, 0);
  assert.deepEqual(summaryInformationOf(out), [
    { ElementName: 'i-12345678', EnabledState: '2', NumberOfProcessors: '2', OperationalStatus: ['2', '32896'], Notes: null, UpTime: '123456' },
    { ElementName: 'other' },
  ]);
});

test('replies that are faults or not the expected output are typed errors', () => {
  const fault = reply(`<s:Fault>
    <s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>w:InvalidParameter</s:Value></s:Subcode></s:Code>
    <s:Reason><s:Text xml:lang="en-US">The parameter is incorrect.</s:Text></s:Reason>
    <s:Detail><p:MSFT_WmiError xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/MSFT_WmiError"><p:Message>Key exists</p:Message></p:MSFT_WmiError></s:Detail>
  </s:Fault>`);
  assert.throws(
    () => parseMethodResponse(fault),
    (e: unknown) => e instanceof WsmanResponseError && e.faultSubcode === 'w:InvalidParameter' && e.faultCode === 's:Sender' && /The parameter is incorrect/.test(e.message) && e.details[0] === 'Key exists',
  );
  assert.throws(() => parseMethodResponse(reply(`<p:AddKvpItems_OUTPUT xmlns:p="${VMMS}"/>`)), /has no ReturnValue/);
  assert.throws(() => parseMethodResponse(reply(`<p:ModifyKvpItems_OUTPUT xmlns:p="${VMMS}"><p:ReturnValue>0</p:ReturnValue></p:ModifyKvpItems_OUTPUT>`), 'AddKvpItems'), WsmanResponseError);
  assert.throws(() => parseMethodResponse('<not-soap/>'), WsmanResponseError);
  assert.throws(() => parseMethodResponse('<s:Envelope'), WsmanResponseError);
});

test('operationTimeoutSeconds: 1 ms to 2^32 - 1 ms, written with three decimals; outside, a KvpError (never PT0.000S or an exponent)', () => {
  const call = { host: 'HYPERV-1', vmName: VM, items: [{ key: 'k', value: '' }] };
  assert.match(renderRemoveKvpItemsEnvelope({ ...call, operationTimeoutSeconds: 0.001 }), /<w:OperationTimeout>PT0\.001S</);
  assert.match(renderRemoveKvpItemsEnvelope({ ...call, operationTimeoutSeconds: 4294967.295 }), /<w:OperationTimeout>PT4294967\.295S</);
  for (const bad of [0.0004, 4294967.296, 1e24, 0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => renderRemoveKvpItemsEnvelope({ ...call, operationTimeoutSeconds: bad }), /Expected `operationTimeoutSeconds` to be a number of seconds from 0\.001 to 4294967\.295/, String(bad));
  }
});

export { EventChannels, type Result, type EvtchnStatus, type EvtchnXsm, type EventChannelsOptions } from './event-channels.ts';
export { ECS, EVTCHNSTAT, VIRQ, NR_VIRQS, virqIsGlobal, type Channel, type Binding, type ChannelState } from './channel.ts';
export { PortTable, EVTCHNS_PER_BUCKET, DOM0LESS_MAX_EVTCHN_PORT } from './port-table.ts';
export { SharedInfo, VcpuInfo, PAGE_SIZE, EVTCHN_2L_NR_CHANNELS } from './layout.ts';
export { SharedPages } from './shared-pages.ts';
export { TwoLevel, markEventsPending } from './two-level.ts';
export type { EvtchnPortOps } from './port-ops.ts';
export { eventChannelOp } from './event-channel-op.ts';
export { EVTCHNOP } from './codec.ts';

// @ts-check
// transport.js describes MediaTransport: how a Meeting's media travels. The
// Meeting (meeting.js) knows who is in the room and talks to the signaling
// server; a transport moves the media and knows nothing of the room beyond
// the participants the Meeting hands it. mesh.js is one: an
// RTCPeerConnection per remote participant. A media server (SFU) transport is
// another shape of the same thing: one connection that publishes and one that
// subscribes for the whole room, its streams split per participant. This file
// holds the types, and TRANSPORTS: the transport of each mode.

import { MeshTransport } from './mesh.js';
import { SfuTransport } from './sfu.js';

/** @typedef {import('./signaling.js').PeerInfo} PeerInfo */
/** @typedef {import('./signaling.js').RelayedMessage} RelayedMessage */
/** @typedef {import('./signaling.js').SfuMessage} SfuMessage */
/** @typedef {import('./signaling.js').OutgoingRelay} OutgoingRelay */

/** @typedef {import('./media.js').MediaKind} MediaKind */
/** @typedef {import('./media.js').SendKind} SendKind */

/** @typedef {Pick<PeerInfo, 'id' | 'name'>} RemotePeer a participant, as a transport knows them */

/**
 * VideoLevel is how large a participant's video is shown: `high` (a large
 * tile), `low` (a thumbnail), `off` (not on screen: no video needed).
 * @typedef {'high' | 'low' | 'off'} VideoLevel
 */

/**
 * ConnectionState is how the media of one participant is getting on:
 * new (nothing tried yet), connecting, connected, disconnected (interrupted,
 * the browser is trying again by itself), retrying (it failed since it last
 * worked and the transport is trying again), failed (the transport has given
 * up; fresh ICE servers may make it try again).
 * @typedef {'new' | 'connecting' | 'connected' | 'disconnected' | 'retrying' | 'failed'} ConnectionState
 */

/**
 * ConnectionStatus is what the UI needs to say how the media of one
 * participant is getting on, in words.
 * @typedef {object} ConnectionStatus
 * @property {ConnectionState} state
 * @property {boolean} noRoute this side found no way out at all: its last ICE gathering ended without a
 *   candidate (in relay-only mode: the TURN server could not be used)
 * @property {boolean} relayOnly the connection may use only the TURN relay (ICE transport policy `relay`)
 * @property {boolean} [reached] false while the first attempt is still being made (it has never worked:
 *   a 'retrying' then is a second try, not a lost connection); absent where the transport does not say
 */

/**
 * TransportMessage is a signaling message for the transport: today the
 * offers, answers and candidates relayed from one participant. Other
 * transports add their own types (an SFU's answers come from the media
 * server, not from a participant); a transport ignores the types it does not
 * know, so the Meeting may hand every transport all of them.
 * @typedef {RelayedMessage | SfuMessage} TransportMessage
 */

/**
 * OutgoingTransportMessage is what a transport sends through the signaling
 * server: today offers, answers and candidates to one participant.
 * @typedef {OutgoingRelay} OutgoingTransportMessage
 */

/**
 * @typedef {object} LocalTracks
 * @property {MediaStreamTrack | null} audio
 * @property {MediaStreamTrack | null} video
 * @property {MediaStreamTrack | null} screen the shared screen, while sharing
 */

/**
 * TransportEvents are what a transport reports, always by participant id.
 * A transport must report a connection status for every participant it was
 * given, and go on reporting until it is connected or has failed; one with a
 * single connection for the whole room reports that connection's status for
 * each participant it carries. It may report a stream for a participant at
 * any time after addPeer, with or without a connection of its own.
 * @typedef {object} TransportEvents
 * @property {{id: string, stream: MediaStream}} stream the media received from participant `id` (the same
 *   stream again when it gained a track)
 * @property {{id: string, stream: MediaStream | null}} screen the stream of participant `id`'s screen m-line
 *   (null: none any more). It carries a picture only while they share: whether they do is their `state`
 * @property {{id: string, status: ConnectionStatus}} connection the media of participant `id` changed state
 * @property {{text: string}} notice something the user should know about our own media ('' when it passed),
 *   e.g. that the media server cannot be reached, so others do not see or hear us
 */

/**
 * TransportContext is what a Meeting gives the transport it makes.
 * @typedef {object} TransportContext
 * @property {string} selfId our own participant id
 * @property {RTCConfiguration} config ICE servers and transport policy in force now
 * @property {LocalTracks} tracks the local tracks to send from the start
 * @property {(msg: OutgoingTransportMessage) => void} signal sends a message through the signaling server
 */

/**
 * MediaTransport moves the media of one Meeting. The Meeting makes one per
 * mode (TransportFactory), tells it who is in the room, hands it the
 * messages meant for it and the local tracks, and listens to its events. It
 * never touches the DOM.
 *
 * @typedef {object} MediaTransport
 * @property {(peer: RemotePeer, initiator: boolean) => void} addPeer a participant to exchange media with.
 *   initiator is true when this side starts (in a mesh: makes the first offer, and is the impolite
 *   side): at join, the newcomer starts; after a switch of transport, the larger id. The other side of
 *   the pair is given the opposite flag. A transport may ignore it.
 * @property {(id: string) => void} removePeer the participant left: stop their media, report nothing more of them
 * @property {(msg: TransportMessage) => void} handle a signaling message for the transport; types it
 *   does not know are ignored
 * @property {(kind: SendKind, track: MediaStreamTrack | null) => Promise<void>} setTrack sends `track` as
 *   our media of `kind` (null: nothing), to everyone; `screen` is the shared screen, a second video
 * @property {(iceServers: RTCIceServer[]) => void} setIceServers fresh ICE servers (TURN credentials) for
 *   the connections to come and the next ICE restart of the ones there are; the transport policy stays
 * @property {() => void} networkChanged this device's network changed (back online, another connection):
 *   restart ICE at once, and try again a connection given up on
 * @property {(id: string, level: VideoLevel) => void} [setView] how large participant `id`'s video is shown,
 *   so a transport that can (the SFU's simulcast) sends the size that fits, or none
 * @property {(id: string, wants: {audio: boolean, video: boolean}) => Promise<boolean>} playing whether participant
 *   `id`'s media of the kinds in `wants` is being decoded now on this transport: their video frames and
 *   audio packets have advanced since the last call (a first call only takes the measure)
 * @property {(id: string) => Promise<RTCStatsReport | null>} receiveStats the statistics of the connection that
 *   brings participant `id`'s media (through the media server: the one connection that brings everyone's)
 * @property {() => Promise<RTCStatsReport[]>} sendStats the statistics of the connections that send our media
 * @property {() => void} close ends every connection, for good, and reports nothing more
 * @property {<K extends keyof TransportEvents>(type: K, listener: (payload: TransportEvents[K]) => void) => () => void} on
 *   adds a listener and returns a function that removes it (an Emitter's on)
 */

/**
 * TransportFactory makes a MediaTransport of one mode.
 * @callback TransportFactory
 * @param {TransportContext} context
 * @returns {MediaTransport}
 */

/**
 * TRANSPORTS makes the media transport of each mode; the mode is the key, as
 * the Meeting is told it.
 * @type {Readonly<Record<string, TransportFactory>>}
 */
export const TRANSPORTS = Object.freeze({
  mesh: (context) => new MeshTransport(context),
  sfu: (context) => new SfuTransport(context),
});

/** DEFAULT_MODE is the transport a meeting starts with. */
export const DEFAULT_MODE = 'mesh';

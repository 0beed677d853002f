import type { MqttClient } from 'mqtt';

/** CONNACK codes of a broker that does not speak MQTT 5 (3.1.1: unacceptable protocol version; 5: unsupported protocol version). */
const NOT_MQTT5 = new Set([1, 132]);

/**
 * Called with a client's errors: after a CONNACK that refuses MQTT 5, the
 * next attempts speak MQTT 3.1.1, without the MQTT 5 properties (the clean
 * session flag stays as set). True when it switched, so the caller can say so.
 */
export function fallBackToMqtt311(client: MqttClient, error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  if (client.options.protocolVersion !== 5 || typeof code !== 'number' || !NOT_MQTT5.has(code)) return false;
  client.options.protocolVersion = 4;
  delete client.options.properties;
  // mqtt.js stops after a refused CONNACK unless told otherwise; it reads this right after the error.
  client.options.reconnectOnConnackError = true;
  return true;
}

/**
 * The bridge from a foundation's supervisor to its service registry: each supervised service appears in
 * namespace {@link SERVICES_NAMESPACE} while it runs (with its health check), and leaves it when it stops or
 * fails.
 *
 * @module
 */
import type { Service } from '../kernel/service.js';
import type { AddServiceOptions, Supervisor } from '../kernel/supervisor.js';
import type { ServiceRegistry } from '../registry/index.js';

/** The registry namespace where supervised services appear while running. */
export const SERVICES_NAMESPACE = 'services';

/** Adds a service to the supervisor, keeping its definition so the registry can run its health check. */
export type AddSupervisedService = (service: Service, options?: AddServiceOptions) => void;

/**
 * Registers each service `supervisor` starts in `registry` (namespace {@link SERVICES_NAMESPACE}) and
 * unregisters it when it stops or fails. Returns the function that adds a service to the supervisor.
 */
export function mirrorSupervisedServices(
  supervisor: Supervisor,
  registry: ServiceRegistry,
): AddSupervisedService {
  const unregisterBy = new Map<string, () => void>();
  /** Definitions added through this foundation, so the registry can run their health checks. */
  const definitions = new Map<string, Service>();

  supervisor.on('service_started', ({ name: serviceName, instance }) => {
    unregisterBy.get(serviceName)?.();
    const definition = definitions.get(serviceName);
    unregisterBy.set(
      serviceName,
      registry.register(SERVICES_NAMESPACE, serviceName, instance, {
        metadata: { supervised: true },
        ...(definition?.health === undefined
          ? {}
          : {
              health: (value: unknown, signal: AbortSignal) =>
                definition.health?.(value, signal) ?? { status: 'healthy' as const },
            }),
      }),
    );
  });
  const dropEntry = ({ name: serviceName }: { name: string }): void => {
    unregisterBy.get(serviceName)?.();
    unregisterBy.delete(serviceName);
  };
  supervisor.on('service_stopped', dropEntry);
  supervisor.on('service_failed', dropEntry);

  return (service, addOptions) => {
    supervisor.add(service, addOptions);
    definitions.set(service.name, service);
  };
}

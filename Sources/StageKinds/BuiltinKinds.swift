import PipelineEngine

/// The stage kinds that ship with mlpipe, registered by name.
///
/// Adding a kind is one file in this target plus one `register` line here.
public enum BuiltinKinds {
    public static func registry() -> KindRegistry {
        var registry = KindRegistry.core
        registry.register(ValidateKind())
        registry.register(SerializeKind())
        registry.register(ContainerizeKind.withRegistryClient)
        registry.register(RegisterKind())
        registry.register(DeployKind())
        registry.register(SmokeTestKind())
        return registry
    }
}

# syntax=docker/dockerfile:1
# Parley's image: built with the SDK, run on the ASP.NET runtime image as a non-root user.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files alone, so the layer is cached across code changes.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Parley.Server/Parley.Server.csproj src/Parley.Server/
RUN dotnet restore src/Parley.Server/Parley.Server.csproj
COPY scripts/publish.sh scripts/
COPY src/ src/
# The same command CI runs (scripts/test.sh), so what CI checks is what ships.
RUN scripts/publish.sh /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS final
WORKDIR /app
COPY --from=build /app ./
# APP_UID is the unprivileged "app" user the .NET images define.
USER $APP_UID
ENV ASPNETCORE_URLS=http://+:8080
EXPOSE 8080
# No curl in the runtime image: Parley checks its own /healthz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["dotnet", "Parley.Server.dll", "--healthcheck", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["dotnet", "Parley.Server.dll"]

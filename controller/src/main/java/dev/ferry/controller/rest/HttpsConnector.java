package dev.ferry.controller.rest;

import javax.net.ssl.SSLContext;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * The controller's only connector when it has a TLS directory: HTTPS with the controller's
 * certificate. No client certificate is asked for: the CLI and browsers have none, and the
 * bearer token decides. Javalin adds no plain connector beside one given this way. (The agent has
 * its own, which requires a client certificate; the two modules share no Jetty code.)
 *
 * <p>SNI host checking is off: the controller is often reached by IP address, for which no SNI
 * is sent; the client checks the certificate against its URL's host.
 */
final class HttpsConnector {

  private HttpsConnector() {}

  static Connector of(Server server, HttpConfiguration http, SSLContext tls, String host, int port) {
    var ssl = new SslContextFactory.Server();
    ssl.setSslContext(tls);
    HttpConfiguration https = new HttpConfiguration(http);
    var secure = new SecureRequestCustomizer();
    secure.setSniHostCheck(false);
    https.addCustomizer(secure);
    var connector = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"), new HttpConnectionFactory(https));
    connector.setHost(host);
    connector.setPort(port);
    return connector;
  }
}
